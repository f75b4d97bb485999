/**
 * What the final aggregator was given for a user turn, kept so that the steps of a client's own
 * tool loop (the same turn, now with tool results appended) do not run the proposers again: the
 * aggregator reuses these references. In memory, bounded (least recently used entries go first);
 * keyed by the preset's plan and the conversation up to and including that user turn.
 */
import { upToLastUserTurn } from './conversation-input.js';
import type { ChatMessage } from './events.js';
import type { ResolvedPreset } from './resolve-preset.js';

export interface ReferenceMemory {
  get(key: string): readonly string[] | undefined;
  set(key: string, references: readonly string[]): void;
}

export const DEFAULT_REFERENCE_MEMORY_ENTRIES = 256;

export function createReferenceMemory(limit = DEFAULT_REFERENCE_MEMORY_ENTRIES): ReferenceMemory & { readonly size: number } {
  const entries = new Map<string, readonly string[]>();
  return {
    get(key) {
      const references = entries.get(key);
      if (references !== undefined) {
        entries.delete(key); // most recently used last
        entries.set(key, references);
      }
      return references;
    },
    set(key, references) {
      entries.delete(key);
      entries.set(key, [...references]);
      while (entries.size > limit) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
  };
}

/** The memory runs share unless given their own (a server passes one per app). */
export const processReferenceMemory = createReferenceMemory();

/** The key of a user turn: who answers it (every layer's models and the instruction) and the conversation up to it. */
export function referenceMemoryKey(preset: ResolvedPreset, messages: readonly ChatMessage[]): string {
  return JSON.stringify([
    preset.name ?? null,
    preset.layers.map((layer) => layer.agents.map((agent) => [agent.label, agent.temperature ?? null, agent.system ?? null])),
    preset.synthesisPrompt,
    upToLastUserTurn(messages),
  ]);
}
