/**
 * How much a layer's answers agree: the mean of their pairwise similarities, 0 to 1. `stopWhen:
 * { agreement: A }` skips the remaining intermediate layers once a layer reaches A.
 *
 * The default measure is lexical: the cosine similarity of the answers' word and word-pair counts
 * (words lowercased; letters and digits of any script; every other character separates). Two
 * answers that say the same in the same words score near 1; answers that share only common words
 * score low. With `embeddingModel`, the answers are embedded through the AI SDK's `embedMany` and
 * the cosine of their embeddings is used instead.
 */
import type { EmbeddingModelV3 } from '@ai-sdk/provider';

function features(text: string): Map<string, number> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const counts = new Map<string, number>();
  const add = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
  words.forEach((word, index) => {
    add(word);
    if (index > 0) add(`${words[index - 1]} ${word}`);
  });
  return counts;
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (const [key, count] of a) {
    normA += count * count;
    const other = b.get(key);
    if (other !== undefined) dot += count * other;
  }
  for (const count of b.values()) normB += count * count;
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

function vectorCosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    dot += a[index]! * b[index]!;
    normA += a[index]! * a[index]!;
    normB += b[index]! * b[index]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

function meanPairwise<T>(items: readonly T[], similarity: (a: T, b: T) => number): number | undefined {
  if (items.length < 2) return undefined;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      sum += similarity(items[i]!, items[j]!);
      pairs++;
    }
  }
  return sum / pairs;
}

/** Mean pairwise lexical similarity; undefined for fewer than two answers. */
export function lexicalAgreement(answers: readonly string[]): number | undefined {
  return meanPairwise(answers.map(features), cosine);
}

/** Mean pairwise cosine of the answers' embeddings (the AI SDK's embedMany, loaded only when used). */
export async function embeddingAgreement(answers: readonly string[], model: EmbeddingModelV3, signal?: AbortSignal): Promise<number | undefined> {
  if (answers.length < 2) return undefined;
  const { embedMany } = await import('ai');
  const { embeddings } = await embedMany({ model, values: [...answers], ...(signal ? { abortSignal: signal } : {}) });
  return meanPairwise(embeddings, vectorCosine);
}
