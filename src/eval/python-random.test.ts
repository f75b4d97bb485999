import { describe, expect, it } from 'vitest';
import { isSwitchedOutputs } from './alpaca-eval-judge.js';
import { PythonRandom } from './python-random.js';

describe('Python-compatible random for string seeds', () => {
  it('matches CPython random.Random(seed).random()', () => {
    // Values printed by CPython 3: random.Random('hello').random(), random.Random('').random(), random.Random('abc').random()
    expect(new PythonRandom('hello').random()).toBe(0.3537754404730722);
    expect(new PythonRandom('').random()).toBe(0.9602256525641875);
    expect(new PythonRandom('abc').random()).toBe(0.7720246314157545);
  });

  it('reproduces AlpacaEval\'s swap coin random.Random("is_switched_outputs" + instruction + "123").choices([False, True])', () => {
    // Expected values printed by CPython 3 for that exact expression.
    const expected: Array<[string, boolean]> = [
      ['What is 2+2?', false],
      ['Write a haiku.', true],
      ['Explain CAP.', false],
      ['Hi', false],
      ['Tell me a joke about cats.', true],
      ['x', true],
      ['y', false],
      ['z', false],
    ];
    for (const [instruction, switched] of expected) expect(isSwitchedOutputs(instruction), instruction).toBe(switched);
  });

  it('gives a fixed, roughly fair swap per instruction', () => {
    expect(isSwitchedOutputs('What is 2+2?')).toBe(isSwitchedOutputs('What is 2+2?'));
    const swaps = Array.from({ length: 400 }, (_, index) => isSwitchedOutputs(`instruction ${index}`)).filter(Boolean).length;
    expect(swaps).toBeGreaterThan(160);
    expect(swaps).toBeLessThan(240);
    // A different seed gives a different pattern.
    const other = Array.from({ length: 50 }, (_, index) => isSwitchedOutputs(`instruction ${index}`, 7));
    const base = Array.from({ length: 50 }, (_, index) => isSwitchedOutputs(`instruction ${index}`));
    expect(other).not.toEqual(base);
  });
});
