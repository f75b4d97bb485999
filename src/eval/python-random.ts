/**
 * Python's `random.Random(seed)` for string seeds (seed version 2, the default since Python 3.2):
 * the seed becomes the integer int.from_bytes(utf8 + sha512(utf8), 'big'), which seeds MT19937
 * through init_by_array with its 32-bit words, least significant first; `random()` draws 53 bits
 * from two outputs. AlpacaEval decides each position swap with
 * `random.Random("is_switched_outputs" + instruction + "123").choices([False, True])`, so this
 * reproduces its swaps bit for bit.
 */
import { createHash } from 'node:crypto';

const N = 624;
const M = 397;

export class PythonRandom {
  private readonly state = new Uint32Array(N);
  private position = N;

  constructor(seed: string) {
    const utf8 = Buffer.from(seed, 'utf8');
    const bytes = Buffer.concat([utf8, createHash('sha512').update(utf8).digest()]);
    // 32-bit words of the big-endian integer, least significant word first.
    const key: number[] = [];
    for (let end = bytes.length; end > 0; end -= 4) {
      const start = Math.max(0, end - 4);
      let word = 0;
      for (let index = start; index < end; index++) word = (word * 256 + (bytes[index] ?? 0)) >>> 0;
      key.push(word);
    }
    while (key.length > 1 && key[key.length - 1] === 0) key.pop();
    this.initByArray(key.length > 0 ? key : [0]);
  }

  private initGenrand(seed: number): void {
    this.state[0] = seed >>> 0;
    for (let index = 1; index < N; index++) {
      const previous = this.state[index - 1] ?? 0;
      const mixed = previous ^ (previous >>> 30);
      // 1812433253 * mixed + index, modulo 2^32, without losing precision.
      this.state[index] = (((((mixed & 0xffff0000) >>> 16) * 1812433253) << 16) + (mixed & 0x0000ffff) * 1812433253 + index) >>> 0;
    }
    this.position = N;
  }

  private initByArray(key: number[]): void {
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const previous = (this.state[i - 1] ?? 0) ^ ((this.state[i - 1] ?? 0) >>> 30);
      const product = (((((previous & 0xffff0000) >>> 16) * 1664525) << 16) + (previous & 0x0000ffff) * 1664525) >>> 0;
      this.state[i] = (((this.state[i] ?? 0) ^ product) + (key[j] ?? 0) + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        this.state[0] = this.state[N - 1] ?? 0;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const previous = (this.state[i - 1] ?? 0) ^ ((this.state[i - 1] ?? 0) >>> 30);
      const product = (((((previous & 0xffff0000) >>> 16) * 1566083941) << 16) + (previous & 0x0000ffff) * 1566083941) >>> 0;
      this.state[i] = (((this.state[i] ?? 0) ^ product) - i) >>> 0;
      i++;
      if (i >= N) {
        this.state[0] = this.state[N - 1] ?? 0;
        i = 1;
      }
    }
    this.state[0] = 0x80000000;
  }

  private nextUint32(): number {
    if (this.position >= N) {
      for (let index = 0; index < N; index++) {
        const value = ((this.state[index] ?? 0) & 0x80000000) | ((this.state[(index + 1) % N] ?? 0) & 0x7fffffff);
        this.state[index] = ((this.state[(index + M) % N] ?? 0) ^ (value >>> 1) ^ (value & 1 ? 0x9908b0df : 0)) >>> 0;
      }
      this.position = 0;
    }
    let value = this.state[this.position++] ?? 0;
    value ^= value >>> 11;
    value ^= (value << 7) & 0x9d2c5680;
    value ^= (value << 15) & 0xefc60000;
    value ^= value >>> 18;
    return value >>> 0;
  }

  /** Python's `random()`: a float in [0, 1) with 53 random bits. */
  random(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** `choices(population)[0]` with k = 1 and no weights: population[floor(random() · n)]. */
  choice<T>(population: readonly T[]): T {
    const picked = population[Math.floor(this.random() * population.length)];
    if (picked === undefined) throw new Error('choice from an empty population');
    return picked;
  }
}
