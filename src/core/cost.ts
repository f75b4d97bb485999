/**
 * Cost of calls from the config's `prices` (USD per million tokens, by
 * "provider:model-id"). Answers served from the response cache cost nothing.
 */
import type { ModelPrice } from './config-schema.js';
import type { Usage } from './events.js';

export type PriceTable = Readonly<Record<string, ModelPrice>>;

/** USD for `usage` on `model`, or undefined when the model has no price. */
export function callCost(prices: PriceTable, model: string, usage: Usage): number | undefined {
  const price = prices[model];
  if (!price) return undefined;
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}

/** Models without a price among `models`. */
export function unpricedModels(prices: PriceTable, models: Iterable<string>): string[] {
  return [...new Set(models)].filter((model) => !prices[model]).sort();
}

/** Round USD for output (to a millionth of a cent would be noise). */
export function roundUsd(value: number): number {
  return Math.round(value * 1e8) / 1e8;
}
