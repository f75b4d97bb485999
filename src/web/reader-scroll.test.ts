import { describe, expect, it } from 'vitest';
import { ReaderScroll } from './reader-scroll.js';

function event(type: string, fields: Record<string, unknown> = {}): Event {
  return Object.assign(new Event(type), fields);
}

/** An event from inside the prompt box (or not): `closest` finds the form field. */
function keyFrom(field: boolean, key: string, shiftKey = false): Event {
  const target = { closest: (selector: string) => (field && selector.includes('textarea') ? {} : null) };
  const keydown = event('keydown', { key, shiftKey });
  Object.defineProperty(keydown, 'target', { value: target });
  return keydown;
}

describe('ReaderScroll', () => {
  it('counts the last wheel turn: up, then down again', () => {
    const window = new EventTarget();
    const reader = new ReaderScroll(window);
    expect(reader.scrolledUp).toBe(false);
    window.dispatchEvent(event('wheel', { deltaY: -120 }));
    expect(reader.scrolledUp).toBe(true);
    window.dispatchEvent(event('wheel', { deltaX: 40, deltaY: 0 }));
    expect(reader.scrolledUp).toBe(true);
    window.dispatchEvent(event('wheel', { deltaY: 120 }));
    expect(reader.scrolledUp).toBe(false);
  });

  it('reads a swipe: a finger moving down scrolls the view up', () => {
    const window = new EventTarget();
    const reader = new ReaderScroll(window);
    window.dispatchEvent(event('touchstart', { touches: [{ clientY: 300 }] }));
    window.dispatchEvent(event('touchmove', { touches: [{ clientY: 200 }] }));
    expect(reader.scrolledUp).toBe(false);
    window.dispatchEvent(event('touchmove', { touches: [{ clientY: 260 }] }));
    expect(reader.scrolledUp).toBe(true);
    // A move without a start (the gesture began before reset) does not count.
    reader.reset();
    window.dispatchEvent(event('touchmove', { touches: [{ clientY: 400 }] }));
    expect(reader.scrolledUp).toBe(false);
  });

  it('counts scrolling keys on the page, not in the prompt box', () => {
    const window = new EventTarget();
    const reader = new ReaderScroll(window);
    window.dispatchEvent(keyFrom(true, 'ArrowUp'));
    expect(reader.scrolledUp).toBe(false);
    window.dispatchEvent(keyFrom(false, 'PageUp'));
    expect(reader.scrolledUp).toBe(true);
    window.dispatchEvent(keyFrom(false, ' '));
    expect(reader.scrolledUp).toBe(false);
    window.dispatchEvent(keyFrom(false, ' ', true));
    expect(reader.scrolledUp).toBe(true);
    window.dispatchEvent(keyFrom(false, 'a'));
    expect(reader.scrolledUp).toBe(true);
  });

  it('forgets on reset (a new run)', () => {
    const window = new EventTarget();
    const reader = new ReaderScroll(window);
    window.dispatchEvent(event('wheel', { deltaY: -1 }));
    reader.reset();
    expect(reader.scrolledUp).toBe(false);
  });
});
