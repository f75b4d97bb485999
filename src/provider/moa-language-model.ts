/**
 * One MoA preset as an AI SDK `LanguageModelV3`: `doGenerate` is one run (`runMoA`), `doStream`
 * one run whose aggregator streams (`streamMoA`, mode 'final'), mapped to the SDK's stream parts.
 * The call's settings go to the aggregator (the final layer) only, as on `moa serve`; what the
 * run did (every agent, usage, warnings) rides along as `providerMetadata.moa`.
 *
 * A failed run is thrown (doGenerate) or streamed as an `error` part (doStream) as the engine's
 * MoARunError, which the AI SDK does not retry: a retry would rerun every proposer.
 */
import {
  InvalidArgumentError,
  UnsupportedFunctionalityError,
  type LanguageModelV3,
  type LanguageModelV3CallOptions,
  type LanguageModelV3FinishReason,
  type LanguageModelV3GenerateResult,
  type LanguageModelV3StreamPart,
  type LanguageModelV3StreamResult,
  type LanguageModelV3Usage,
  type SharedV3Warning,
} from '@ai-sdk/provider';
import type { ChatMessage, MoAEvent } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import { MoARunError, streamMoA, type FinalCallOptions, type MoARun, type RunOptions } from '../core/stream-moa.js';
import { mergeProviderOptions, type FunctionToolDefinition, type ToolChoiceSetting } from '../models/call-settings.js';
import type { ModelRegistry } from '../models/registry.js';
import type { FinishReason } from '../models/usage.js';
import { finalCallOptions, type AggregatorSettings } from '../core/aggregator-settings.js';
import { withAggregatorSettings } from '../node/preset-catalog.js';
import { promptMessages } from './prompt-messages.js';
import { ConfigError } from '../util/errors.js';

/** Run settings shared by every call of a provider (timeouts, retries, an event listener). */
export type ModelRunOptions = Pick<RunOptions, 'timeoutMs' | 'attemptTimeoutMs' | 'maxRetries' | 'retryBaseDelayMs' | 'retryMaxDelayMs' | 'maxRetryAfterMs'> & {
  /** Every event of every run this model makes (e.g. to show the proposers' progress). */
  onEvent?: (event: MoAEvent) => void;
};

export interface MoAModelDependencies {
  /** The preset to run (resolved on first use: the default may need a look at the machine). */
  preset(): Promise<ResolvedPreset>;
  registry: ModelRegistry;
  runOptions: ModelRunOptions;
}

function unifiedFinishReason(reason: FinishReason | undefined): LanguageModelV3FinishReason['unified'] {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'content-filter':
    case 'tool-calls':
    case 'error':
      return reason;
    default:
      return 'other';
  }
}

function finishReasonOf(result: MoAResult): LanguageModelV3FinishReason {
  const final = result.layers[result.layers.length - 1];
  const reason = result.finishReason ?? final?.agents.find((agent) => agent.status === 'done')?.finishReason;
  return { unified: unifiedFinishReason(reason), raw: reason };
}

function usageOf(result: MoAResult): LanguageModelV3Usage {
  return {
    inputTokens: { total: result.usage.inputTokens, noCache: result.usage.inputTokens, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: result.usage.outputTokens, text: result.usage.outputTokens, reasoning: undefined },
  };
}

/** `providerMetadata.moa`: what every layer did (JSON values only). */
function metadataOf(result: MoAResult): Record<string, Record<string, import('@ai-sdk/provider').JSONValue>> {
  return {
    moa: {
      runId: result.runId,
      preset: result.preset ?? null,
      latencyMs: result.latencyMs,
      layers: result.layers.map((layer) => ({
        index: layer.index,
        aggregator: layer.aggregator,
        agents: layer.agents.map((agent) => ({
          model: agent.model,
          status: agent.status,
          latencyMs: agent.latencyMs ?? null,
          attempts: agent.attempts,
          inputTokens: agent.usage.inputTokens,
          outputTokens: agent.usage.outputTokens,
          ...(agent.error ? { error: agent.error.message } : {}),
        })),
      })),
      warnings: result.warnings.map((warning) => warning.message),
      degraded: result.degraded.map((entry) => ({ layer: entry.layer, agent: entry.agent, reason: entry.reason, message: entry.message })),
      ttftMs: result.ttftMs ?? null,
    },
  };
}

/** The call's tools, response format and sampling settings, for the final aggregator (as on `moa serve`). */
function settingsOf(options: LanguageModelV3CallOptions): AggregatorSettings {
  const tools: FunctionToolDefinition[] = (options.tools ?? []).map((tool) => {
    if (tool.type !== 'function') {
      throw new UnsupportedFunctionalityError({ functionality: `provider tools (${tool.id}): a MoA model takes function tools only` });
    }
    return {
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      inputSchema: tool.inputSchema,
      ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
    };
  });
  const choice = options.toolChoice;
  const toolChoice: ToolChoiceSetting | undefined = choice === undefined ? undefined : choice.type === 'tool' ? { type: 'tool', toolName: choice.toolName } : choice.type;
  return {
    ...(tools.length > 0 ? { tools } : {}),
    ...(toolChoice !== undefined && tools.length > 0 ? { toolChoice } : {}),
    ...(options.responseFormat?.type === 'json' ? { responseFormat: options.responseFormat } : {}),
    ...(options.stopSequences?.length ? { stopSequences: options.stopSequences } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.topP !== undefined ? { topP: options.topP } : {}),
    ...(options.topK !== undefined ? { topK: options.topK } : {}),
    ...(options.presencePenalty !== undefined ? { presencePenalty: options.presencePenalty } : {}),
    ...(options.frequencyPenalty !== undefined ? { frequencyPenalty: options.frequencyPenalty } : {}),
  };
}

/** `providerOptions.moa`: the MoA settings of one call. */
function moaOptionsOf(options: LanguageModelV3CallOptions): { toolLoop?: 'reuse' | 'rerun' } {
  const moa = options.providerOptions?.['moa'];
  if (moa === undefined) return {};
  for (const key of Object.keys(moa)) {
    if (key !== 'toolLoop')
      throw new InvalidArgumentError({ argument: `providerOptions.moa.${key}`, message: `providerOptions.moa.${key}: unknown MoA option "${key}" (known: toolLoop)` });
  }
  const toolLoop = moa['toolLoop'];
  if (toolLoop !== undefined && toolLoop !== 'reuse' && toolLoop !== 'rerun') {
    throw new InvalidArgumentError({ argument: 'providerOptions.moa.toolLoop', message: 'providerOptions.moa.toolLoop: expected "reuse" or "rerun"' });
  }
  return toolLoop === undefined ? {} : { toolLoop };
}

function warningsOf(options: LanguageModelV3CallOptions): SharedV3Warning[] {
  const warnings: SharedV3Warning[] = [];
  if (options.headers && Object.keys(options.headers).length > 0) {
    warnings.push({ type: 'unsupported', feature: 'headers', details: 'a MoA call makes several provider calls; set headers on the providers in the config' });
  }
  return warnings;
}

export class MoALanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly provider = 'moa';
  readonly modelId: string;
  readonly supportedUrls: Record<string, RegExp[]> = {};
  readonly #dependencies: MoAModelDependencies;

  constructor(modelId: string, dependencies: MoAModelDependencies) {
    this.modelId = modelId;
    this.#dependencies = dependencies;
  }

  /** The call's conversation and warnings, before anything runs (a refused option throws here). */
  #prepare(options: LanguageModelV3CallOptions): { warnings: SharedV3Warning[]; messages: ChatMessage[] } {
    return { warnings: warningsOf(options), messages: promptMessages(options.prompt) };
  }

  async #launch(options: LanguageModelV3CallOptions, messages: ChatMessage[], stream: 'none' | 'final', onEvent?: (event: MoAEvent) => void): Promise<MoARun> {
    const preset = withAggregatorSettings(await this.#dependencies.preset(), {
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxOutputTokens !== undefined ? { maxTokens: options.maxOutputTokens } : {}),
    });
    const { toolLoop } = moaOptionsOf(options);
    let final: FinalCallOptions | undefined;
    try {
      final = finalCallOptions(preset, this.#dependencies.registry, settingsOf(options), {});
    } catch (error) {
      // A setting a model of the final layer cannot honour: refused before any call, in the AI SDK's terms.
      if (error instanceof ConfigError && error.code === 'unsupported_parameter') throw new UnsupportedFunctionalityError({ functionality: error.message });
      throw error;
    }
    const { moa: _moa, ...passThrough } = options.providerOptions ?? {};
    const providerOptions = mergeProviderOptions(final?.providerOptions, Object.keys(passThrough).length > 0 ? passThrough : undefined);
    if (providerOptions) final = { ...final, providerOptions };
    const { onEvent: listener, ...runOptions } = this.#dependencies.runOptions;
    return streamMoA(preset, messages, {
      ...runOptions,
      stream,
      registry: this.#dependencies.registry,
      ...(final ? { final } : {}),
      ...(toolLoop ? { toolLoop } : {}),
      ...(options.abortSignal ? { signal: options.abortSignal } : {}),
      onEvent: (event) => {
        listener?.(event);
        onEvent?.(event);
      },
    });
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const { warnings, messages } = this.#prepare(options);
    const run = await this.#launch(options, messages, 'none');
    const result = await run.result; // rejects with MoARunError (not retried by the AI SDK)
    const calls = result.toolCalls ?? [];
    return {
      content: [
        ...(result.text !== '' || calls.length === 0 ? [{ type: 'text' as const, text: result.text }] : []),
        ...calls.map((call) => ({ type: 'tool-call' as const, toolCallId: call.id, toolName: call.name, input: call.arguments })),
      ],
      finishReason: finishReasonOf(result),
      usage: usageOf(result),
      warnings,
      providerMetadata: metadataOf(result),
      request: { body: { preset: this.modelId, messages } },
      response: { id: result.runId, modelId: this.modelId, timestamp: new Date() },
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const { warnings, messages } = this.#prepare(options);
    let run: MoARun | undefined;
    let controller!: ReadableStreamDefaultController<LanguageModelV3StreamPart>;
    let finalLayer = -1;
    let textOpen = false;
    let sentText = false;
    const openCalls = new Set<string>();
    let closed = false;
    const textId = '0';
    const close = (): void => {
      if (closed) return;
      closed = true;
      controller.close();
    };
    const onEvent = (event: MoAEvent): void => {
      if (closed) return;
      if (event.type === 'run-start') {
        finalLayer = event.layers.length - 1;
        controller.enqueue({ type: 'response-metadata', id: event.runId, modelId: this.modelId, timestamp: new Date() });
      } else if (event.type === 'agent-delta' && event.layer === finalLayer && event.delta !== '') {
        if (!textOpen) {
          textOpen = true;
          controller.enqueue({ type: 'text-start', id: textId });
        }
        controller.enqueue({ type: 'text-delta', id: textId, delta: event.delta });
        sentText = true;
      } else if (event.type === 'agent-tool-call-delta' && event.layer === finalLayer) {
        if (!openCalls.has(event.toolCallId)) {
          openCalls.add(event.toolCallId);
          controller.enqueue({ type: 'tool-input-start', id: event.toolCallId, toolName: event.toolName });
        }
        if (event.argumentsDelta !== '') controller.enqueue({ type: 'tool-input-delta', id: event.toolCallId, delta: event.argumentsDelta });
        sentText = true;
      } else if (event.type === 'agent-retry' && event.layer === finalLayer && sentText) {
        // Text already handed to the caller cannot be taken back: end here rather than restart the answer.
        controller.enqueue({
          type: 'error',
          error: new Error(`The aggregator failed after it had started streaming the answer (${event.error.message}); the stream ends here.`),
        });
        close();
        run?.abort();
      }
    };
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      start(streamController) {
        controller = streamController;
      },
      cancel: () => {
        closed = true;
        run?.abort();
      },
    });
    controller.enqueue({ type: 'stream-start', warnings });
    run = await this.#launch(options, messages, 'final', onEvent);
    run.result.then(
      (result) => {
        if (closed) return;
        const calls = result.toolCalls ?? [];
        if (textOpen || calls.length === 0) {
          if (!textOpen) controller.enqueue({ type: 'text-start', id: textId });
          controller.enqueue({ type: 'text-end', id: textId });
        }
        for (const call of calls) {
          if (openCalls.has(call.id)) controller.enqueue({ type: 'tool-input-end', id: call.id });
          controller.enqueue({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: call.arguments });
        }
        controller.enqueue({ type: 'finish', finishReason: finishReasonOf(result), usage: usageOf(result), providerMetadata: metadataOf(result) });
        close();
      },
      (error: unknown) => {
        if (closed) return;
        controller.enqueue({ type: 'error', error });
        const result = error instanceof MoARunError ? error.result : undefined;
        controller.enqueue({
          type: 'finish',
          finishReason: { unified: 'error', raw: undefined },
          usage: result ? usageOf(result) : usageOf({ usage: { inputTokens: 0, outputTokens: 0 } } as MoAResult),
        });
        close();
      },
    );
    return { stream, request: { body: { preset: this.modelId, messages } } };
  }
}
