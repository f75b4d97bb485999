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

export const agentObjectSchema = z.strictObject({
  model: z.union([modelName, modelObject], {
    error: 'expected a model name like "provider:model-id"',
  }),
  name: z.string().optional(),
  temperature: temperature.optional(),
  maxTokens: maxTokens.optional(),
  system: z.string({ error: 'expected the system prompt as a string' }).optional(),
  fallbacks: z.array(modelName).optional(),
});

export const agentSchema = z.union([modelName, modelObject, agentObjectSchema], {
  error: 'expected a model name like "provider:model-id" or { model, temperature?, maxTokens?, system? }',
});

export const layerSchema = z.strictObject({
  proposers: z.array(agentSchema).min(1, { error: 'a layer needs at least one proposer' }).optional(),
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
  prices: z
    .record(
      z.string().regex(MODEL_NAME, { error: 'expected a model name like "provider:model-id" as the key' }),
      modelPriceSchema,
    )
    .optional(),
});

export type AgentInput = z.input<typeof agentSchema>;
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
