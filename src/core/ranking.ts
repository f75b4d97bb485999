/**
 * A rank layer: council-style peer review. Each reviewer sees the previous layer's answers
 * anonymized as "Response A, B, …", in an order of its own (shuffled with the run's random
 * source), its own answer left out, and ranks them. The rankings are read robustly (an explicit
 * "FINAL RANKING:" line, else a numbered list, else the order the letters first appear); a
 * reviewer whose ranking cannot be read is reported, not fatal. The aggregate orders the answers by
 * mean position (1 = best); the next layer gets them in that order with a short summary.
 */
import type { LanguageModelV3Prompt } from '@ai-sdk/provider';
import { conversationMessages } from './conversation-view.js';
import type { ChatMessage, RankingEntry, RankingReview } from './events.js';
import type { Reference } from './layer-outputs.js';

export const RANKING_INSTRUCTION = `You are reviewing several responses to the user's latest message, written by different AI models. Judge each one critically for correctness, completeness, clarity and usefulness to the user. Briefly explain your judgement of each response, then give your ranking from best to worst on a last line of exactly this form:

FINAL RANKING: <letter>, <letter>, …

List every response letter once.`;

/** What one reviewer is shown: the answers in its own order, under letters. */
export interface ReviewSheet {
  /** letters[i] labels `sources[i]` (the previous layer's agent). */
  letters: string[];
  sources: number[];
}

function letter(index: number): string {
  return index < 26 ? String.fromCharCode(65 + index) : `Z${index - 25}`;
}

/** A reviewer's sheet: every answer but its own, shuffled (Fisher-Yates with `random`). */
export function reviewSheet(references: readonly Reference[], ownSource: number | undefined, random: () => number): ReviewSheet {
  const sources = references.map((reference) => reference.source).filter((source) => source !== ownSource);
  for (let index = sources.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [sources[index], sources[other]] = [sources[other]!, sources[index]!];
  }
  return { sources, letters: sources.map((_, index) => letter(index)) };
}

export function buildReviewPrompt(messages: readonly ChatMessage[], references: readonly Reference[], sheet: ReviewSheet, agentSystem?: string): LanguageModelV3Prompt {
  const bySource = new Map(references.map((reference) => [reference.source, reference.text]));
  const responses = sheet.sources.map((source, index) => `Response ${sheet.letters[index]}:\n${(bySource.get(source) ?? '').trim()}`).join('\n\n');
  const system = [agentSystem, ...messages.filter((message) => message.role === 'system').map((message) => message.content), RANKING_INSTRUCTION]
    .filter(Boolean)
    .join('\n\n');
  const turns = conversationMessages(messages, 'text');
  return [
    { role: 'system', content: system },
    ...turns,
    { role: 'user', content: [{ type: 'text', text: `The responses to review:\n\n${responses}\n\nReview them and end with your FINAL RANKING line.` }] },
  ];
}

/** The letters of a ranking in order, each once; undefined when none can be read. */
export function parseRanking(text: string, letters: readonly string[]): string[] | undefined {
  const known = new Set(letters);
  const pick = (candidates: string[]): string[] => {
    const seen: string[] = [];
    for (const candidate of candidates) if (known.has(candidate) && !seen.includes(candidate)) seen.push(candidate);
    return seen;
  };
  const letterPattern = /(?:Response\s+)?\b([A-Z](?:\d+)?)\b/g;
  // 1. An explicit final line (the last one, if several).
  const finals = [...text.matchAll(/FINAL\s+RANKING\s*:?\s*(.+)/gi)];
  const final = finals[finals.length - 1]?.[1];
  if (final) {
    const order = pick([...final.matchAll(letterPattern)].map((match) => match[1]!));
    if (order.length > 0) return order;
  }
  // 2. A numbered list of responses ("1. Response C", "2) B").
  const listed = [...text.matchAll(/^\s*(?:\d+[.)]|[-*])\s*(?:\*\*)?(?:Response\s+)?([A-Z](?:\d+)?)\b/gm)].map((match) => match[1]!);
  const fromList = pick(listed);
  if (fromList.length >= Math.min(2, letters.length)) return fromList;
  // 3. "Response X" mentioned in order of first appearance, only when every letter is there.
  const mentioned = pick([...text.matchAll(/Response\s+([A-Z](?:\d+)?)\b/g)].map((match) => match[1]!));
  if (mentioned.length === letters.length && letters.length > 0) return mentioned;
  return undefined;
}

/** A reviewer's ranking as the previous layer's agents, best first; unranked answers follow in sheet order. */
export function reviewOrder(text: string, sheet: ReviewSheet): { order: number[]; parsed: boolean } {
  const letters = parseRanking(text, sheet.letters);
  if (!letters) return { order: [], parsed: false };
  const order = letters.map((picked) => sheet.sources[sheet.letters.indexOf(picked)]!);
  return { order, parsed: true };
}

/** Mean position over the reviewers that ranked each answer; unranked answers last, in their order. */
export function aggregateRankings(sources: readonly number[], reviews: readonly RankingReview[]): RankingEntry[] {
  const entries = sources.map((agent) => {
    const positions = reviews.filter((review) => review.parsed && review.order.includes(agent)).map((review) => review.order.indexOf(agent) + 1);
    const meanRank = positions.length > 0 ? positions.reduce((sum, position) => sum + position, 0) / positions.length : Infinity;
    return { agent, meanRank, votes: positions.length };
  });
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.meanRank - b.entry.meanRank || a.index - b.index)
    .map(({ entry }) => ({ ...entry, meanRank: Number.isFinite(entry.meanRank) ? Math.round(entry.meanRank * 100) / 100 : 0 }));
}

/** One line per reference (in the order the next layer gets them), for its instruction and for the trace. */
export function rankingSummary(ranking: readonly RankingEntry[], reviewers: number): string {
  const lines = ranking.map((entry, index) =>
    entry.votes > 0 ? `[${index + 1}] mean position ${entry.meanRank} from ${entry.votes} review(s)` : `[${index + 1}] not ranked`,
  );
  return `A peer review by ${reviewers} reviewer(s) ranked the references; they are listed best first (a lower mean position is better):\n${lines.join('\n')}`;
}
