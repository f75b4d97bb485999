import { describe, expect, it } from 'vitest';
import { ContinuationJoiner, prefillText } from './continuation.js';

/** Feed `continuation` to a joiner in pieces of `size` characters and return what it lets through. */
function join(written: string, continuation: string, size = 3): string {
  const joiner = new ContinuationJoiner(written);
  let out = '';
  for (let index = 0; index < continuation.length; index += size) out += joiner.push(continuation.slice(index, index + size));
  return out + joiner.end();
}

describe('ContinuationJoiner', () => {
  it('passes a real continuation through unchanged', () => {
    expect(join('The sky is blue because', ' air scatters blue light.')).toBe(' air scatters blue light.');
  });

  it('drops the end of the written text that the continuation repeats: whole words, or any long overlap', () => {
    expect(join('one two ', 'two and the rest.')).toBe('and the rest.');
    expect(join('The answer begins here with the quick part.', 'with the quick part. And more.')).toBe(' And more.');
    expect(join('…the rayleigh scattering coefficient grows as', 'ring coefficient grows as the inverse fourth power.')).toBe(' the inverse fourth power.');
  });

  it('does not drop a short match inside a word ("no" after "piano")', () => {
    expect(join('I play the piano', 'no, the violin too.')).toBe('no, the violin too.');
  });

  it('drops a continuation that starts the whole answer over, keeping only what is new', () => {
    expect(join('Step 1: boil water. ', 'Step 1: boil water. Step 2: add tea.', 5)).toBe('Step 2: add tea.');
    expect(join('Short.', 'Short.')).toBe('');
  });

  it('does not double the space at the join, and sends a prefill without trailing whitespace', () => {
    expect(join('First part. ', ' Second part.')).toBe('Second part.');
    expect(prefillText('text with a trailing newline\n\n')).toBe('text with a trailing newline');
  });
});
