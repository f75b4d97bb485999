/**
 * What every face of the server (Chat Completions, Responses, Messages, MCP) asks of one MoA
 * run, once its own request shape has been checked and translated: the preset, the
 * conversation, and the settings that go to the aggregator (the final layer) only.
 */
import type { ChatMessage } from '../core/events.js';

export interface RunRequest {
  /** The preset name. */
  model: string;
  messages: ChatMessage[];
  /** For the aggregator (the final layer's agents) only. */
  temperature?: number;
  maxTokens?: number;
  /** Add the `moa` extension object (per-layer details) to the response. */
  details: boolean;
}
