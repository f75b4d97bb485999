/**
 * One GGUF model behind the AI SDK LanguageModelV3 interface: `doGenerate` and
 * `doStream` borrow a sequence of the shared loaded model, run the chat
 * (with the model's own chat template, or a general fallback) and report
 * token usage from the sequence's token meter. The call's abort signal stops
 * generation at once.
 */
import type {
  LanguageModelV3,
  LanguageModelV3CallOptions,
  LanguageModelV3FinishReason,
  LanguageModelV3GenerateResult,
  LanguageModelV3Prompt,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
  LanguageModelV3Usage,
  SharedV3Warning,
} from '@ai-sdk/provider';
import type { ChatHistoryItem, LLamaChatGenerateResponseOptions, LlamaChatResponse } from 'node-llama-cpp';
import { AbortedError, ProviderError } from '../../util/errors.js';
import type { LoadedModel } from './loaded-models.js';

export interface LocalLanguageModelOptions {
  /** The provider's name (`local`, or a custom provider of type local). */
  provider: string;
  /** As written after `local:`. */
  modelId: string;
  /** The model file (absolute). */
  path: string;
  /** Loads the shared model (once) and holds it until the factory closes. */
  load: () => Promise<LoadedModel>;
  /** Called once per model file when it has no chat template. */
  onFallbackTemplate: (loaded: LoadedModel) => void;
}

interface GenerationOutcome {
  text: string;
  usage: LanguageModelV3Usage;
  finishReason: LanguageModelV3FinishReason;
  warnings: SharedV3Warning[];
}

function textOf(parts: ReadonlyArray<{ type: string; text?: string }>): string {
  return parts.map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

/** The AI SDK prompt as node-llama-cpp chat history, ending with the model turn to write. */
export function toChatHistory(prompt: LanguageModelV3Prompt, warnings: SharedV3Warning[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const systemTexts: string[] = [];
  let droppedFiles = false;
  let droppedTools = false;
  for (const message of prompt) {
    switch (message.role) {
      case 'system':
        // Chat templates put one system message first: gather them all there.
        if (message.content.trim()) systemTexts.push(message.content);
        break;
      case 'user':
        if (message.content.some((part) => part.type !== 'text')) droppedFiles = true;
        history.push({ type: 'user', text: textOf(message.content) });
        break;
      case 'assistant': {
        if (message.content.some((part) => part.type === 'tool-call' || part.type === 'tool-result')) droppedTools = true;
        if (message.content.some((part) => part.type === 'file')) droppedFiles = true;
        const text = textOf(message.content);
        const last = history.at(-1);
        if (last?.type === 'model') last.response.push(text);
        else history.push({ type: 'model', response: [text] });
        break;
      }
      case 'tool':
        droppedTools = true;
        break;
    }
  }
  if (systemTexts.length > 0) history.unshift({ type: 'system', text: systemTexts.join('\n\n') });
  if (droppedFiles) warnings.push({ type: 'unsupported', feature: 'file parts', details: 'local models read text only; files in the prompt were left out' });
  if (droppedTools) warnings.push({ type: 'unsupported', feature: 'tool messages', details: 'local models do not call tools; tool parts were left out' });
  // The model writes the next model turn (or continues a model turn the prompt ends with).
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

function finishReasonOf(stopReason: LlamaChatResponse['metadata']['stopReason']): LanguageModelV3FinishReason {
  switch (stopReason) {
    case 'eogToken':
    case 'stopGenerationTrigger':
    case 'customStopTrigger':
      return { unified: 'stop', raw: stopReason };
    case 'maxTokens':
      return { unified: 'length', raw: stopReason };
    case 'functionCalls':
      return { unified: 'tool-calls', raw: stopReason };
    default:
      return { unified: 'other', raw: stopReason };
  }
}

function usageOf(inputTokens: number, outputTokens: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: 0, cacheWrite: undefined },
    outputTokens: { total: outputTokens, text: outputTokens, reasoning: 0 },
  };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new AbortedError();
}

export class LocalLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3' as const;
  readonly provider: string;
  readonly modelId: string;
  readonly supportedUrls: Record<string, RegExp[]> = {};
  readonly path: string;
  private readonly options: LocalLanguageModelOptions;

  constructor(options: LocalLanguageModelOptions) {
    this.options = options;
    this.provider = options.provider;
    this.modelId = options.modelId;
    this.path = options.path;
  }

  private get label(): string {
    return `${this.provider}:${this.modelId}`;
  }

  private settingWarnings(options: LanguageModelV3CallOptions): SharedV3Warning[] {
    const warnings: SharedV3Warning[] = [];
    if (options.tools?.length) warnings.push({ type: 'unsupported', feature: 'tools', details: 'local models do not call tools' });
    if (options.responseFormat?.type === 'json') {
      warnings.push({ type: 'unsupported', feature: 'responseFormat', details: 'local models answer in text; JSON output is not enforced' });
    }
    return warnings;
  }

  private async generate(
    options: LanguageModelV3CallOptions,
    onText: ((delta: string) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<GenerationOutcome> {
    if (signal?.aborted) throw abortReason(signal);
    const warnings = this.settingWarnings(options);
    const history = toChatHistory(options.prompt, warnings);
    const loaded = await this.options.load();
    if (loaded.chatTemplate === 'fallback') {
      this.options.onFallbackTemplate(loaded);
      warnings.push({
        type: 'compatibility',
        feature: 'chat template',
        details: `${loaded.path} has no chat template; a general prompt format is used`,
      });
    }
    const { LlamaChat } = await import('node-llama-cpp');
    const sequence = await loaded.sequences.acquire(signal);
    try {
      const before = sequence.tokenMeter.getState();
      const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: loaded.chatWrapper, autoDisposeSequence: false });
      try {
        const repeatPenalty =
          options.frequencyPenalty !== undefined || options.presencePenalty !== undefined
            ? {
                ...(options.frequencyPenalty !== undefined ? { frequencyPenalty: options.frequencyPenalty } : {}),
                ...(options.presencePenalty !== undefined ? { presencePenalty: options.presencePenalty } : {}),
              }
            : undefined;
        const generateOptions: LLamaChatGenerateResponseOptions = {
          ...(signal ? { signal } : {}),
          stopOnAbortSignal: false,
          // Without a limit a base model can write until its context is full, shift, and go on.
          maxTokens: options.maxOutputTokens ?? sequence.contextSize,
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
          ...(options.topP !== undefined ? { topP: options.topP } : {}),
          ...(options.topK !== undefined ? { topK: options.topK } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          ...(options.stopSequences?.length ? { customStopTriggers: options.stopSequences.filter((stop) => stop !== '') } : {}),
          ...(repeatPenalty ? { repeatPenalty } : {}),
          ...(onText ? { onTextChunk: (text: string) => void (text && onText(text)) } : {}),
        };
        const response = await chat.generateResponse(history, generateOptions);
        const used = sequence.tokenMeter.diff(before);
        return {
          text: response.response,
          usage: usageOf(used.usedInputTokens, used.usedOutputTokens),
          finishReason: finishReasonOf(response.metadata.stopReason),
          warnings,
        };
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw this.generationError(error, loaded);
    } finally {
      await loaded.sequences.release(sequence);
    }
  }

  private generationError(error: unknown, loaded: LoadedModel): ProviderError {
    if (error instanceof ProviderError) return error;
    const message = error instanceof Error ? error.message : String(error);
    const tooLong = /compress chat history|context size|too long|exceeds the context/i.test(message);
    return new ProviderError(
      tooLong
        ? `${this.label}: the prompt does not fit in the model's context of ${loaded.context.contextSize} tokens (${message}). ` +
            'Shorten the prompt or the references (fewer proposers, smaller --max-tokens), or raise MOA_LOCAL_CONTEXT_SIZE up to what the model was trained with.'
        : `${this.label}: generation failed: ${message}`,
      { provider: this.provider, model: this.label, isRetryable: false, code: tooLong ? 'local_context_exceeded' : 'local_generation_failed', cause: error },
    );
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const outcome = await this.generate(options, undefined, options.abortSignal);
    return {
      content: outcome.text ? [{ type: 'text', text: outcome.text }] : [],
      finishReason: outcome.finishReason,
      usage: outcome.usage,
      warnings: outcome.warnings,
      response: { modelId: this.modelId, timestamp: new Date() },
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    if (options.abortSignal?.aborted) throw abortReason(options.abortSignal);
    // Cancelling the stream (reader.cancel()) stops generation like the caller's signal does.
    const cancel = new AbortController();
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, cancel.signal]) : cancel.signal;
    const textId = 'text-0';
    let closed = false;
    const stream = new ReadableStream<LanguageModelV3StreamPart>({
      start: (controller) => {
        let started = false;
        const enqueue = (part: LanguageModelV3StreamPart) => {
          if (!closed) controller.enqueue(part);
        };
        // Warnings known before the model is loaded go out first; the rest ride on the finish.
        enqueue({ type: 'stream-start', warnings: this.settingWarnings(options) });
        this.generate(
          options,
          (delta) => {
            if (!started) {
              started = true;
              enqueue({ type: 'text-start', id: textId });
            }
            enqueue({ type: 'text-delta', id: textId, delta });
          },
          signal,
        ).then(
          (outcome) => {
            if (closed) return;
            if (started) enqueue({ type: 'text-end', id: textId });
            enqueue({ type: 'finish', usage: outcome.usage, finishReason: outcome.finishReason });
            closed = true;
            controller.close();
          },
          (error: unknown) => {
            if (closed) return;
            closed = true;
            // An abort rejects the reader with the abort reason; any other failure is an error part.
            if (signal.aborted) controller.error(error);
            else {
              controller.enqueue({ type: 'error', error });
              controller.close();
            }
          },
        );
      },
      cancel: (reason) => {
        closed = true;
        cancel.abort(reason ?? new AbortedError('the stream was cancelled'));
      },
    });
    return { stream, response: {} };
  }
}
