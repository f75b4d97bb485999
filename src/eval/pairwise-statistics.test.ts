import { describe, expect, it } from 'vitest';
import { bootstrapMeanInterval, percentileOfSorted, summarizePairwise, winRateWithInterval } from './pairwise-statistics.js';
import { PythonRandom } from './python-random.js';

/** A generator that returns the given values in a cycle (the test knows every draw). */
function cycling(values: readonly number[]): () => number {
  let position = 0;
  return () => values[position++ % values.length] as number;
}

describe('percentileOfSorted (numpy linear interpolation)', () => {
  it('interpolates between closest ranks', () => {
    expect(percentileOfSorted([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentileOfSorted([10, 20, 30, 40, 50], 25)).toBe(20);
    // position 0.025 · 3 = 0.075: 1 + 0.075 · (2 − 1)
    expect(percentileOfSorted([1, 2, 3, 4], 2.5)).toBeCloseTo(1.075, 12);
    expect(percentileOfSorted([7], 97.5)).toBe(7);
    expect(Number.isNaN(percentileOfSorted([], 50))).toBe(true);
  });
});

describe('bootstrapMeanInterval', () => {
  it('draws floor(random · n) n times per resample and takes the 2.5th and 97.5th percentiles of the means (hand-computed)', () => {
    // n = 2 values [0, 1]; draws 0.1 → index 0, 0.6 → index 1, 0.7 → 1, 0.8 → 1 (cycle of four, two draws per resample):
    // resample means: (0+1)/2, (1+1)/2, (0+1)/2, (1+1)/2 = 0.5, 1, 0.5, 1 → sorted 0.5, 0.5, 1, 1.
    const interval = bootstrapMeanInterval([0, 1], { resamples: 4, random: cycling([0.1, 0.6, 0.7, 0.8]) });
    // 2.5th: position 0.075 → 0.5; 97.5th: position 2.925 → 1.
    expect(interval).toEqual([0.5, 1]);
  });

  it("with the default seeded generator: the same interval every time, equal to an independent resampling with Python's Random", () => {
    const values = [1, 0, 0.5, 1, 1, 0, 0.75, 1, 0.25, 1, 0.5, 0];
    const first = bootstrapMeanInterval(values, { resamples: 500, seed: 'fixed seed' });
    expect(bootstrapMeanInterval(values, { resamples: 500, seed: 'fixed seed' })).toEqual(first);
    // Independently: the same generator, our own loop and percentile.
    const generator = new PythonRandom('fixed seed');
    const means: number[] = [];
    for (let resample = 0; resample < 500; resample++) {
      let sum = 0;
      for (let draw = 0; draw < values.length; draw++) sum += values[Math.floor(generator.random() * values.length)] as number;
      means.push(sum / values.length);
    }
    means.sort((left, right) => left - right);
    const at = (q: number): number => {
      const position = q * (means.length - 1);
      const low = Math.floor(position);
      return (means[low] as number) + ((means[Math.ceil(position)] as number) - (means[low] as number)) * (position - low);
    };
    expect(first[0]).toBeCloseTo(at(0.025), 12);
    expect(first[1]).toBeCloseTo(at(0.975), 12);
    // A different seed gives a different (but similar) interval.
    const other = bootstrapMeanInterval(values, { resamples: 500, seed: 'another seed' });
    expect(other).not.toEqual(first);
    expect(Math.abs((other[0] ?? 0) - (first[0] ?? 0))).toBeLessThan(0.1);
  });
});

describe('winRateWithInterval', () => {
  it('counts wins, ties and losses, and the win rate counts a tie half', () => {
    const preferences = [1, 1, 0.5, 0, 1, 0.5, 0.8, 0.2];
    const result = winRateWithInterval(preferences, { resamples: 200, seed: 's' });
    expect(result.wins).toBe(4);
    expect(result.ties).toBe(2);
    expect(result.losses).toBe(2);
    expect(result.n).toBe(8);
    const mean = preferences.reduce((sum, value) => sum + value, 0) / preferences.length;
    expect(result.winRate).toBeCloseTo(mean * 100, 12);
    const variance = preferences.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (preferences.length - 1);
    expect(result.standardError).toBeCloseTo(Math.sqrt(variance / preferences.length) * 100, 12);
    expect(result.interval[0]).toBeLessThan(result.winRate);
    expect(result.interval[1]).toBeGreaterThan(result.winRate);
  });

  it('rejects a preference outside [0, 1], and is NaN without instances', () => {
    expect(() => winRateWithInterval([0.5, 1.5])).toThrow(/\[0, 1\], got 1.5/);
    const empty = winRateWithInterval([]);
    expect(Number.isNaN(empty.winRate)).toBe(true);
    expect(empty.n).toBe(0);
  });
});

describe('summarizePairwise', () => {
  it('overall first, then categories in name order, all from one generator', () => {
    const outcomes = [
      { id: '1', category: 'koala', preference: 1 },
      { id: '2', category: 'vicuna', preference: 0 },
      { id: '3', category: 'koala', preference: 0.5 },
      { id: '4', category: 'helpful_base', preference: 1 },
    ];
    const summary = summarizePairwise(outcomes, { resamples: 50, seed: 'x' });
    expect(Object.keys(summary.categories)).toEqual(['helpful_base', 'koala', 'vicuna']);
    expect(summary.categories.koala?.winRate).toBe(75);
    expect(summary.categories.koala?.ties).toBe(1);
    // The same draws, made by hand in the same order.
    const generator = new PythonRandom('x');
    const random = (): number => generator.random();
    const overall = bootstrapMeanInterval([1, 0, 0.5, 1], { resamples: 50, random });
    const helpful = bootstrapMeanInterval([1], { resamples: 50, random });
    const koala = bootstrapMeanInterval([1, 0.5], { resamples: 50, random });
    expect(summary.overall.interval).toEqual([overall[0] * 100, overall[1] * 100]);
    expect(summary.categories.helpful_base?.interval).toEqual([helpful[0] * 100, helpful[1] * 100]);
    expect(summary.categories.koala?.interval).toEqual([koala[0] * 100, koala[1] * 100]);
  });
});
