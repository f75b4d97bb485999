/**
 * Which way the reader last scrolled the page by hand since `reset()`: the page
 * brings the answer into view when a run ends, unless the reader scrolled up
 * meanwhile (to reread a card above), then it leaves them where they are. Only
 * input counts (wheel, touch, scrolling keys outside form fields): the page's
 * own scrolls and content growing are not the reader's.
 */

export type ScrollDirection = 'up' | 'down';

const KEY_DIRECTIONS: Readonly<Record<string, ScrollDirection>> = {
  PageUp: 'up',
  ArrowUp: 'up',
  Home: 'up',
  PageDown: 'down',
  ArrowDown: 'down',
  End: 'down',
  ' ': 'down',
};

/** A key typed into the prompt or a picker moves a caret or an option, not the page. */
function isFormField(target: EventTarget | null): boolean {
  const element = target as { closest?: (selector: string) => unknown } | null;
  return typeof element?.closest === 'function' && element.closest('input, textarea, select, [contenteditable]') !== null;
}

function firstTouchY(event: Event): number | undefined {
  return (event as TouchEvent).touches?.[0]?.clientY;
}

export class ReaderScroll {
  private direction: ScrollDirection | undefined;
  private touchY: number | undefined;

  /** `target`: the window (wheel, touch and key events bubble up to it). */
  constructor(target: EventTarget) {
    const passive = { passive: true } as const;
    target.addEventListener(
      'wheel',
      (event) => {
        const deltaY = (event as WheelEvent).deltaY;
        if (deltaY !== 0) this.direction = deltaY < 0 ? 'up' : 'down';
      },
      passive,
    );
    target.addEventListener(
      'touchstart',
      (event) => {
        this.touchY = firstTouchY(event);
      },
      passive,
    );
    target.addEventListener(
      'touchmove',
      (event) => {
        const y = firstTouchY(event);
        if (y === undefined || this.touchY === undefined || y === this.touchY) return;
        // A finger moving down drags the page's content down: the view goes up.
        this.direction = y > this.touchY ? 'up' : 'down';
        this.touchY = y;
      },
      passive,
    );
    target.addEventListener(
      'keydown',
      (event) => {
        const key = (event as KeyboardEvent).key;
        const direction = KEY_DIRECTIONS[key];
        if (direction && !isFormField(event.target)) this.direction = key === ' ' && (event as KeyboardEvent).shiftKey ? 'up' : direction;
      },
      passive,
    );
  }

  /** Forget earlier scrolling (a run starts). */
  reset(): void {
    this.direction = undefined;
    this.touchY = undefined;
  }

  /** The reader's last scroll since `reset()` went up. */
  get scrolledUp(): boolean {
    return this.direction === 'up';
  }
}
