/**
 * Random ids in the shape of Python's `shortuuid.uuid()` (22 characters from its 57-letter
 * alphabet, no look-alikes), which FastChat uses for `answer_id`.
 */
import { randomBytes } from 'node:crypto';

export const SHORTUUID_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function shortUuid(random: (size: number) => Uint8Array = randomBytes): string {
  let id = '';
  while (id.length < 22) {
    for (const byte of random(32)) {
      // Rejection sampling keeps the 57 letters equally likely (228 = 4 × 57).
      if (byte < 228 && id.length < 22) id += SHORTUUID_ALPHABET[byte % 57];
    }
  }
  return id;
}
