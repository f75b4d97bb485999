import { describe, expect, it } from 'vitest';
import { randomUUID } from './random-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomUUID', () => {
  it('is a v4 UUID from crypto.randomUUID where it exists', () => {
    expect(randomUUID()).toMatch(UUID_V4);
  });

  it('builds a v4 UUID from getRandomValues where randomUUID is missing (a browser page outside a secure context)', () => {
    const own = Object.getOwnPropertyDescriptor(globalThis.crypto, 'randomUUID');
    Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true });
    try {
      const ids = new Set(Array.from({ length: 100 }, () => randomUUID()));
      expect(ids.size).toBe(100);
      for (const id of ids) expect(id).toMatch(UUID_V4);
    } finally {
      if (own) Object.defineProperty(globalThis.crypto, 'randomUUID', own);
      else delete (globalThis.crypto as { randomUUID?: unknown }).randomUUID; // Crypto.prototype's comes back
    }
    expect(typeof globalThis.crypto.randomUUID).toBe('function');
  });
});
