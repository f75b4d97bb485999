/**
 * The user-facing configuration contract (`moa.config.yaml` / `.json`).
 * Names here are relied on by other tools: keep them.
 */
import { z } from 'zod';
import { providerSchema } from '../models/provider-schema.js';

export { PROVIDER_TYPES, providerSchema, type ProviderInput, type ProviderSettings } from '../models/provider-schema.js';

const MODEL_NAME = /^[A-Za-z0-9_.-]+:\S.*$/;
const modelName = z
  .string({ error: 'expected a model name like "provider:model-id"' })
  .regex(MODEL_NAME, { error: 'expected a model name like "provider:model-id" (e.g. "together:Qwen/Qwen2.5-72B-Instruct-Turbo")' });

/** A LanguageModel object passed from code (library use), checked by shape. */
const modelObject = z.custom<import('@ai-sdk/provider').LanguageModelV3>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    (value as { specificationVersion?: unknown }).specificationVersion === 'v3' &&
    typeof (value as { doGenerate?: unknown }).doGenerate === 'function',
  { error: 'expected a model name like "provider:model-id" or an AI SDK LanguageModel (specificationVersion "v3")' },
);

const temperature = z.number({ error: 'expected a number between 0 and 2' }).min(0).max(2);
const maxTokens = z.number({ error: 'expected a positive whole number of tokens' }).int().positive();
const milliseconds = z.number({ error: 'expected a number of milliseconds' }).int().nonnegative();

const positiveInt = (what: string) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .positive({ error: `expected ${what}` });

/**
 * When a synthesizing agent may start and what it sees of the previous layer:
 * - `barrier` (default): once the previous layer is complete, with every answer whole;
 * - `early`: once `after` answers are in (or `deadlineMs` after the first), continuing when later ones arrive (at most `maxRestarts` times);
 * - `staircase`: from the first `chunkTokens` of every answer, writing its own answer a part at a time as the references grow.
 */
export const aggregationSchema = z.union(
  [
    z.literal('barrier'),
    z.strictObject({ mode: z.literal('barrier') }),
    z.strictObject({
      mode: z.literal('early'),
      after: positiveInt('the number of answers to start from').optional(),
      deadlineMs: milliseconds.optional(),
      maxRestarts: z.number({ error: 'expected a whole number of restarts' }).int().min(0).max(20).optional(),
    }),
    z.strictObject({
      mode: z.literal('staircase'),
      chunkTokens: positiveInt('a number of tokens per chunk').optional(),
      /** Each chunk is this many times the previous one (1 = equal chunks); default 2. */
      growth: z.number({ error: 'expected a growth factor of at least 1' }).min(1).max(8).optional(),
    }),
  ],
  { error: 'expected "barrier", { mode: early, after?, deadlineMs?, maxRestarts? } or { mode: staircase, chunkTokens?, growth? }' },
);

export const stopWhenSchema = z.strictObject({
  /** Mean pairwise similarity (0-1) of a layer's answers at which the remaining intermediate layers are skipped. */
  agreement: z.number({ error: 'expected a similarity between 0 and 1' }).min(0).max(1),
  /** Measure similarity with this embedding model ("provider:model") instead of the lexical measure. */
  embeddingModel: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+:\S.*$/, { error: 'expected a model name like "openai:text-embedding-3-small"' })
    .optional(),
});

export const agentObjectSchema = z.strictObject({
  model: z.union([modelName, modelObject], {
    error: 'expected a model name like "provider:model-id"',
  }),
  name: z.string().optional(),
  temperature: temperature.optional(),
  maxTokens: maxTokens.optional(),
  system: z.string({ error: 'expected the system prompt as a string' }).optional(),
  fallbacks: z.array(modelName).optional(),
  /** The aggregator only: how it consumes the last layer (overrides the preset's `aggregation`). */
  aggregation: aggregationSchema.optional(),
  /** The aggregator only: synthesize W references at a time, carrying the running synthesis into the next window (Self-MoA-Seq). */
  window: z.number({ error: 'expected the number of references per window (2 or more)' }).int().min(2).optional(),
});

export const agentSchema = z.union([modelName, modelObject, agentObjectSchema], {
  error: 'expected a model name like "provider:model-id" or { model, temperature?, maxTokens?, system? }',
});

export const LAYER_KINDS = ['propose', 'synthesize', 'rank'] as const;

export const layerSchema = z.strictObject({
  /** propose: answer alone; synthesize: answer from the previous layer's answers; rank: peer-review them. */
  kind: z.enum(LAYER_KINDS, { error: 'expected "propose", "synthesize" or "rank"' }).optional(),
  proposers: z.array(agentSchema).min(1, { error: 'a layer needs at least one proposer' }).optional(),
  aggregation: aggregationSchema.optional(),
  referenceMaxTokens: positiveInt('a number of tokens').optional(),
  minSuccessful: z.number().int().positive().optional(),
  quorum: z.number().int().positive().optional(),
  graceMs: milliseconds.optional(),
});

export const presetSchema = z.strictObject({
  description: z.string().optional(),
  layers: z
    .union([z.number().int().min(1).max(10), z.array(layerSchema).min(1)], {
      error: 'expected the number of layers (1-10, aggregator included) or a list of proposer layers',
    })
    .optional(),
  proposers: z.array(agentSchema).min(1, { error: 'list at least one proposer' }).optional(),
  aggregator: agentSchema,
  temperature: temperature.optional(),
  maxTokens: maxTokens.optional(),
  system: z.string().optional(),
  /** Replaces the built-in aggregate-and-synthesize instruction (inline text). */
  synthesisPrompt: z.string().min(1).optional(),
  /** Replaces it from a file; relative paths resolve against the config file. */
  synthesisPromptFile: z.string().min(1).optional(),
  minSuccessful: z.number().int().positive().optional(),
  quorum: z.number().int().positive().optional(),
  graceMs: milliseconds.optional(),
  timeoutMs: z.number().int().positive().optional(),
  attemptTimeoutMs: z.number().int().positive().optional(),
  maxRetries: z.number().int().min(0).max(20).optional(),
  /** How synthesizing layers (and the aggregator) consume the previous layer; see aggregationSchema. */
  aggregation: aggregationSchema.optional(),
  /** Skip the remaining intermediate layers once a layer's answers agree. */
  stopWhen: stopWhenSchema.optional(),
  /** Cut every reference to about this many tokens (with a marker saying so). */
  referenceMaxTokens: positiveInt('a number of tokens').optional(),
  /** Inside a client's tool loop: 'reuse' the references of the user turn (default) or 'rerun' every layer each step. */
  toolLoop: z.enum(['reuse', 'rerun'], { error: 'expected "reuse" or "rerun"' }).optional(),
});

const usdPerMillion = z.number({ error: 'expected a price in USD per million tokens, e.g. 0.88' }).nonnegative();

/** Price of one model, in USD per million tokens. */
export const modelPriceSchema = z.strictObject({
  input: usdPerMillion,
  output: usdPerMillion,
});

export const configFileSchema = z.strictObject({
  providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), providerSchema).optional(),
  presets: z.record(z.string().min(1), presetSchema).optional(),
  defaultPreset: z.string().optional(),
  timeoutMs: z.number().int().positive().optional(),
  maxRetries: z.number().int().min(0).max(20).optional(),
  /** USD per million tokens, by "provider:model-id": `prices: { "together:x": { input: 0.88, output: 0.88 } }`. */
  prices: z.record(z.string().regex(MODEL_NAME, { error: 'expected a model name like "provider:model-id" as the key' }), modelPriceSchema).optional(),
});

export type AgentInput = z.input<typeof agentSchema>;
export type AggregationInput = z.input<typeof aggregationSchema>;
export type LayerKind = (typeof LAYER_KINDS)[number];
export type LayerInput = z.input<typeof layerSchema>;
export type PresetInput = z.input<typeof presetSchema>;
export type ConfigFileInput = z.input<typeof configFileSchema>;
export type ConfigFile = z.output<typeof configFileSchema>;
export type PresetSettings = z.output<typeof presetSchema>;
export type ModelPrice = z.output<typeof modelPriceSchema>;

/** `['presets', 'quick', 'proposers', 1]` → `presets.quick.proposers[1]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
