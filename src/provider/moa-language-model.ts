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
import { MoARunError, streamMoA, type MoARun, type RunOptions } from '../core/stream-moa.js';
import type { ModelRegistry } from '../models/registry.js';
import type { FinishReason } from '../models/usage.js';
import { withAggregatorSettings } from '../server/preset-catalog.js';
import { promptMessages } from './prompt-messages.js';

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
  const reason = final?.agents.find((agent) => agent.status === 'done')?.finishReason;
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
    },
  };
}

/** The call's options that this model cannot honour yet: refused, not ignored. */
function refuseUnsupported(options: LanguageModelV3CallOptions): SharedV3Warning[] {
  const refuse = (functionality: string): never => {
    throw new UnsupportedFunctionalityError({ functionality: `${functionality} (MoA models do not apply it yet)` });
  };
  if (options.tools?.length) refuse('tools');
  if (options.toolChoice && options.toolChoice.type !== 'auto' && options.toolChoice.type !== 'none') refuse('toolChoice');
  if (options.responseFormat?.type === 'json') refuse('responseFormat json');
  if (options.stopSequences?.length) refuse('stopSequences');
  if (options.topP !== undefined) refuse('topP');
  if (options.topK !== undefined) refuse('topK');
  if (options.presencePenalty !== undefined) refuse('presencePenalty');
  if (options.frequencyPenalty !== undefined) refuse('frequencyPenalty');
  if (options.seed !== undefined) refuse('seed');
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
    const warnings = refuseUnsupported(options);
    return { warnings, messages: promptMessages(options.prompt) };
  }

  async #launch(options: LanguageModelV3CallOptions, messages: ChatMessage[], stream: 'none' | 'final', onEvent?: (event: MoAEvent) => void): Promise<MoARun> {
    const preset = withAggregatorSettings(await this.#dependencies.preset(), {
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.maxOutputTokens !== undefined ? { maxTokens: options.maxOutputTokens } : {}),
    });
    const { onEvent: listener, ...runOptions } = this.#dependencies.runOptions;
    return streamMoA(preset, messages, {
      ...runOptions,
      stream,
      registry: this.#dependencies.registry,
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
    return {
      content: [{ type: 'text', text: result.text }],
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
        if (!textOpen) controller.enqueue({ type: 'text-start', id: textId });
        controller.enqueue({ type: 'text-end', id: textId });
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
