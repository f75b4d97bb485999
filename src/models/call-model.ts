/**
 * One call to one model through the provider's own `doGenerate` / `doStream`
 * (never the `streamText` helper: it costs about three times the CPU). Only a
 * call whose tokens someone watches streams; every other call is a plain generate.
 *
 * A call may carry the final aggregator's settings (tools, response format, sampling; see
 * call-settings.ts) and may answer with tool calls. A provider that drops tool calls when
 * streaming (Ollama) is called without streaming when it has tools, and its answer is
 * handed to the watcher as if it had streamed.
 *
 * Log-probabilities (`topLogprobs`): asked for in the provider's own way (provider-capabilities.ts);
 * a server that refuses the logprobs parameters (HTTP 400/422 naming them) is asked once more
 * without them, so a judge falls back to the generated token instead of failing.
 */
import type { LanguageModelV3CallOptions, LanguageModelV3Usage } from '@ai-sdk/provider';
import { ProviderError } from '../util/errors.js';
import { callOptionsOf, mergeProviderOptions, type CallSettings } from './call-settings.js';
import {
  choiceLogprobContent,
  firstTokenTopLogprobs,
  logprobProviderOptions,
  MAX_TOP_LOGPROBS,
  openAIMetadataLogprobs,
  rejectsLogprobs,
  type TokenLogprob,
} from './logprobs.js';
import type { LogprobSupport } from './provider-capabilities.js';
import { toProviderError } from './provider-errors.js';
import type { ResolvedModel } from './registry.js';
import type { FinishReason, ToolCall, Usage } from './usage.js';

export type { TokenLogprob };

/** A streamed piece of a tool call's arguments; `index` orders the calls of one answer. */
export interface ToolCallDelta {
  index: number;
  toolCallId: string;
  toolName: string;
  argumentsDelta: string;
}

export interface CallRequest {
  prompt: LanguageModelV3CallOptions['prompt'];
  temperature?: number;
  maxTokens?: number;
  signal: AbortSignal;
  /** When set, the call streams and every text delta is passed here. */
  onDelta?: (delta: string) => void;
  /** Streamed tool-call arguments (with `onDelta`, when the call has tools). */
  onToolCallDelta?: (delta: ToolCallDelta) => void;
  /**
   * Ask for the top N (1–20) log-probabilities of each generated token (openai and
   * openai-compatible providers; ignored by the others). The first token's come back on the result.
   */
  topLogprobs?: number;
  /** Tools, response format and sampling settings, passed to the provider as they are. */
  settings?: CallSettings;
  /** An empty answer is fine (a continuation may have nothing to add); otherwise it fails the call. */
  allowEmpty?: boolean;
}

export interface CallResult {
  text: string;
  usage: Usage;
  finishReason: FinishReason;
  /** The first generated token's top log-probabilities, when asked for and the provider returned them. */
  topLogprobs?: TokenLogprob[];
  /** The tool calls the model answered with. */
  toolCalls?: ToolCall[];
}

function toUsage(usage: LanguageModelV3Usage | undefined): Usage {
  return { inputTokens: usage?.inputTokens.total ?? 0, outputTokens: usage?.outputTokens.total ?? 0 };
}

export async function callModel(resolved: ResolvedModel, request: CallRequest): Promise<CallResult> {
  const top = request.topLogprobs !== undefined ? Math.min(MAX_TOP_LOGPROBS, Math.max(0, Math.floor(request.topLogprobs))) : 0;
  const support: LogprobSupport = top > 0 ? resolved.capabilities.logprobs : { kind: 'none' };
  try {
    if (support.kind === 'none') return await callOnce(resolved, request, { kind: 'none' }, 0);
    try {
      return await callOnce(resolved, request, support, top);
    } catch (error) {
      if (request.signal.aborted || !rejectsLogprobs(error)) throw error;
      return await callOnce(resolved, request, { kind: 'none' }, 0);
    }
  } catch (error) {
    if (request.signal.aborted) throw request.signal.reason ?? error;
    throw toProviderError(error, resolved);
  }
}

async function callOnce(resolved: ResolvedModel, request: CallRequest, support: LogprobSupport, top: number): Promise<CallResult> {
  const settings = callOptionsOf(request.settings);
  const providerOptions = mergeProviderOptions(logprobProviderOptions(support, top), settings.providerOptions);
  const hasTools = (settings.tools?.length ?? 0) > 0;
  // Ollama drops tool calls from streams: generate, then hand the answer over as if streamed.
  const stream = request.onDelta !== undefined && !(hasTools && !resolved.capabilities.streamsToolCalls);
  const options: LanguageModelV3CallOptions = {
    ...settings,
    prompt: request.prompt,
    abortSignal: request.signal,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
    ...(providerOptions ? { providerOptions } : {}),
    ...(support.kind === 'openai-compatible' && stream ? { includeRawChunks: true } : {}),
  };
  const withLogprobs = (result: CallResult, topLogprobs: TokenLogprob[] | undefined): CallResult => (topLogprobs !== undefined ? { ...result, topLogprobs } : result);
  if (!stream) {
    const result = await resolved.model.doGenerate(options);
    let text = '';
    const toolCalls: ToolCall[] = [];
    for (const part of result.content) {
      if (part.type === 'text') text += part.text;
      else if (part.type === 'tool-call' && !part.providerExecuted) toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: part.input });
    }
    const topLogprobs =
      support.kind === 'openai'
        ? openAIMetadataLogprobs(result.providerMetadata)
        : support.kind === 'openai-compatible'
          ? firstTokenTopLogprobs(choiceLogprobContent(result.response?.body))
          : undefined;
    const answer = nonEmpty(
      resolved,
      request,
      withLogprobs({ text, usage: toUsage(result.usage), finishReason: result.finishReason.unified, ...(toolCalls.length > 0 ? { toolCalls } : {}) }, topLogprobs),
    );
    if (request.onDelta) {
      if (text) request.onDelta(text);
      toolCalls.forEach((call, index) => request.onToolCallDelta?.({ index, toolCallId: call.id, toolName: call.name, argumentsDelta: call.arguments }));
    }
    return answer;
  }
  const onDelta = request.onDelta!;
  const { stream: parts } = await resolved.model.doStream(options);
  const reader = parts.getReader();
  let text = '';
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let finishReason: FinishReason = 'other';
  let topLogprobs: TokenLogprob[] | undefined;
  // Tool calls in the order they began; `streamed` remembers which ones sent their arguments as deltas.
  const toolCalls: ToolCall[] = [];
  const callIndex = new Map<string, number>();
  const streamed = new Set<string>();
  const indexOf = (id: string, name: string): number => {
    let index = callIndex.get(id);
    if (index === undefined) {
      index = toolCalls.length;
      callIndex.set(id, index);
      toolCalls.push({ id, name, arguments: '' });
    }
    return index;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    switch (value.type) {
      case 'text-delta':
        if (value.delta) {
          text += value.delta;
          onDelta(value.delta);
        }
        break;
      case 'tool-input-start':
        if (!value.providerExecuted) indexOf(value.id, value.toolName);
        break;
      case 'tool-input-delta': {
        const index = callIndex.get(value.id);
        if (index === undefined || !value.delta) break;
        const call = toolCalls[index]!;
        call.arguments += value.delta;
        streamed.add(value.id);
        request.onToolCallDelta?.({ index, toolCallId: call.id, toolName: call.name, argumentsDelta: value.delta });
        break;
      }
      case 'tool-call': {
        if (value.providerExecuted) break;
        const index = indexOf(value.toolCallId, value.toolName);
        const call = toolCalls[index]!;
        // The complete call is the truth; a provider that sent no deltas gets one with all of it.
        if (!streamed.has(value.toolCallId)) {
          request.onToolCallDelta?.({ index, toolCallId: call.id, toolName: call.name, argumentsDelta: value.input });
        }
        call.arguments = value.input;
        break;
      }
      case 'raw':
        // Only asked for (includeRawChunks) on openai-compatible models with logprobs: the first chunk listing token logprobs.
        topLogprobs ??= firstTokenTopLogprobs(choiceLogprobContent(value.rawValue));
        break;
      case 'finish':
        usage = toUsage(value.usage);
        finishReason = value.finishReason.unified;
        if (support.kind === 'openai') topLogprobs = openAIMetadataLogprobs(value.providerMetadata);
        break;
      case 'error':
        await reader.cancel().catch(() => undefined);
        throw value.error;
    }
  }
  if (finishReason === 'error') throw new Error('the provider ended the stream with an error');
  return nonEmpty(resolved, request, withLogprobs({ text, usage, finishReason, ...(toolCalls.length > 0 ? { toolCalls } : {}) }, topLogprobs));
}

/**
 * An answer with no text and no tool call (a content filter, or a reasoning model that spent
 * every token thinking) is useless as a reference or as the final answer: it fails the attempt,
 * so the agent retries or falls back.
 */
function nonEmpty(resolved: Pick<ResolvedModel, 'provider' | 'label'>, request: CallRequest, result: CallResult): CallResult {
  if (request.allowEmpty || result.text.trim() || (result.toolCalls?.length ?? 0) > 0) return result;
  throw new ProviderError(`${resolved.label}: returned an empty answer (finish reason: ${result.finishReason})`, {
    provider: resolved.provider,
    model: resolved.label,
    isRetryable: true,
    code: 'empty_answer',
  });
}
