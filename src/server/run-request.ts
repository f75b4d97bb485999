/**
 * What every face of the server (Chat Completions, Responses, Messages, MCP) asks of one MoA
 * run, once its own request shape has been checked and translated: the preset, the
 * conversation, and the settings that go to the aggregator (the final layer) only.
 */
import type { ChatMessage } from '../core/events.js';
import type { AggregatorSettings, SettingParams } from '../core/aggregator-settings.js';

export interface RunRequest {
  /** The preset name. */
  model: string;
  messages: ChatMessage[];
  /** For the aggregator (the final layer's agents) only. */
  temperature?: number;
  maxTokens?: number;
  /** Tools, response format, sampling, … for the final aggregator (checked against its provider before the run). */
  settings?: AggregatorSettings;
  /** The request field each setting came from, for the 400 that refuses one. */
  params?: SettingParams;
  /** Inside the client's tool loop: reuse the user turn's references (default) or rerun every layer. */
  toolLoop?: 'reuse' | 'rerun';
  /** Stream the fastest proposer as a labelled draft (native event stream and page only). */
  draft?: boolean;
  /** Add the `moa` extension object (per-layer details) to the response. */
  details: boolean;
}
