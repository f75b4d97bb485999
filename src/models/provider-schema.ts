/** How a provider is described in the config: the `providers.<name>` entries. */
import { z } from 'zod';

export const PROVIDER_TYPES = ['openai-compatible', 'openai', 'anthropic', 'google', 'ollama', 'local'] as const;

export const providerSchema = z.strictObject({
  type: z.enum(PROVIDER_TYPES, { error: `expected one of: ${PROVIDER_TYPES.join(', ')}` }).default('openai-compatible'),
  baseURL: z.url({ error: 'expected a URL such as http://127.0.0.1:8000/v1' }).optional(),
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the NAME of an environment variable, not the key itself' })
    .optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /**
   * openai-compatible: the server takes `response_format: { type: "json_schema" }` (vLLM, recent Together/Groq
   * models, OpenRouter): the schema is sent, not only asked for in the instruction. Default false (`json_object`).
   */
  structuredOutputs: z.boolean({ error: 'expected true or false' }).optional(),
  /** Calls in flight at once: a number pins it; 'auto' (the default) adapts (AIMD: 16 to start, halved on a 429, 1..256). */
  maxConcurrency: z.union([z.number().int().positive(), z.literal('auto')], { error: 'expected a whole number of calls, or "auto"' }).optional(),
  /** Calls started per minute, shared by every run using the registry (a batch shares one). */
  requestsPerMinute: z.number({ error: 'expected a number of requests per minute' }).positive().optional(),
  /** Tokens (prompt + output) per minute, estimated before a call and corrected with its usage after. */
  tokensPerMinute: z.number({ error: 'expected a number of tokens per minute' }).positive().optional(),
  /** Budget of each agent's use of a model of this provider: queue, rate limits, retries and calls. */
  timeoutMs: z.number().int().positive().optional(),
  /** Longest one call may take before it is abandoned and retried (within timeoutMs); default: no own limit. */
  attemptTimeoutMs: z.number().int().positive().optional(),
  maxRetries: z.number().int().min(0).max(20).optional(),
});

export type ProviderInput = z.input<typeof providerSchema>;
export type ProviderSettings = z.output<typeof providerSchema>;
