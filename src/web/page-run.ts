/**
 * What the page folds from one run's events, live or replayed: the reducer's `MoAResult` (the
 * CLI's fold, `applyEvent`) plus the few things only the page shows — each layer's plan (its
 * aggregation policy, from `run-start`), the first proposer to write a token (the draft when the
 * engine names none), and when the final answer's first text arrived (the time to first token
 * before `run-end` says it).
 */
import type { MoAEvent, PlannedLayer } from '../core/events.js';
import { applyEvent, initialResult, type MoAResult } from '../core/reducer.js';

export interface DraftSource {
  layer: number;
  agent: number;
  model: string;
}

export interface PageRun {
  result: MoAResult;
  /** The plan of `run-start` (each layer's aggregation policy). */
  planned?: PlannedLayer[];
  /** The first layer-0 agent to write a token, in a run with more than one layer. */
  firstWriter?: DraftSource;
  /** `t` of the final layer's first text (the answer's first token). */
  firstAnswerAt?: number;
}

export function createPageRun(runId = ''): PageRun {
  return { result: initialResult(runId) };
}

/** Fold one event into the run, in place. */
export function foldEvent(run: PageRun, event: MoAEvent): PageRun {
  const { result } = run;
  // An agent that continues shown text keeps it: the next call only adds to it (the reducer
  // starts an agent-start over from '', which would take the shown answer back until agent-end).
  const continuing = event.type === 'agent-start' && (event as { continues?: boolean }).continues === true ? event : undefined;
  const shown = continuing ? result.layers[continuing.layer]?.agents[continuing.agent]?.text : undefined;
  applyEvent(result, event);
  if (continuing && shown !== undefined) {
    const agent = result.layers[continuing.layer]?.agents[continuing.agent];
    if (agent) agent.text = shown;
  }
  switch (event.type) {
    case 'run-start':
      run.planned = event.layers;
      break;
    case 'agent-delta': {
      if (event.delta === '') break;
      const last = result.layers.length - 1;
      if (event.layer === 0 && last > 0 && run.firstWriter === undefined) {
        run.firstWriter = { layer: 0, agent: event.agent, model: result.layers[0]?.agents[event.agent]?.model ?? '' };
      }
      if (event.layer === last && run.firstAnswerAt === undefined) run.firstAnswerAt = event.t;
      break;
    }
    case 'agent-end':
      // An answer that was not streamed arrives whole: its first text is its end (the engine's rule too).
      if (event.layer === result.layers.length - 1 && run.firstAnswerAt === undefined) run.firstAnswerAt = event.t;
      break;
  }
  return run;
}

export function foldEvents(events: Iterable<MoAEvent>): PageRun {
  const run = createPageRun();
  for (const event of events) foldEvent(run, event);
  return run;
}

/** The final answer as far as it is written: the run's text once it ended, else the final layer's streamed text. */
export function answerSoFar(run: PageRun): string {
  const { result } = run;
  if (result.status === 'done') return result.text;
  const finalLayer = result.layers[result.layers.length - 1];
  if (!finalLayer?.aggregator) return '';
  const writing = finalLayer.agents.find((agent) => agent.status === 'streaming' || agent.status === 'done' || (agent.text ?? '') !== '');
  return writing?.text ?? '';
}

/**
 * The draft to show instead of the answer, if any: the proposer the engine named (`draft-start`),
 * else — when the reader asked for drafts — the first proposer to write, the same rule the engine
 * uses. None once the answer has started, nor when there is no text to show yet.
 */
export function draftToShow(run: PageRun, wanted: boolean): (DraftSource & { text: string }) | undefined {
  if (run.firstAnswerAt !== undefined || answerSoFar(run) !== '') return undefined;
  const source = run.result.draft ?? (wanted ? run.firstWriter : undefined);
  if (!source) return undefined;
  const agent = run.result.layers[source.layer]?.agents[source.agent];
  const text = agent?.text ?? '';
  if (text === '') return undefined;
  return { ...source, model: agent?.model ?? source.model, text };
}

/** Run start to the answer's first token: the engine's `ttftMs` once the run ended, else as seen in the stream. */
export function timeToFirstToken(run: PageRun): number | undefined {
  return run.result.ttftMs ?? run.firstAnswerAt;
}
