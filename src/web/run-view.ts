/**
 * The live view of one run, rendered from what the page folded (`page-run.ts`: the reducer's
 * MoAResult and a little more): a section per layer (its kind and policy, skipped with the reason,
 * a rank layer's aggregate), a card per agent (state, streamed text, latency, tokens, steps, a
 * reviewer's ranking), totals with the time to first token, warnings, the draft while the answer
 * is not started, the final answer as sanitized Markdown, and what the answer was made without.
 * Renders at most once per animation frame and touches only what changed since the last frame.
 */
import type { ChatMessage, DegradedEntry, PlannedLayer, RankingReview } from '../core/events.js';
import type { AgentResult, LayerResult, MoAResult } from '../core/reducer.js';
import { lastUserText, visibleTurns } from './conversation.js';
import { formatCount, formatDuration, formatUsage } from '../util/format.js';
import { renderMarkdown } from './markdown.js';
import { answerSoFar, draftToShow, timeToFirstToken, type PageRun } from './page-run.js';

/** What the page knows beyond the events: a stopped run, a replay, the reader's draft choice. */
export interface RunViewState {
  run: PageRun;
  /** 'live' while a request streams; 'replay' for a trace; 'stopped' after Stop. */
  mode: 'live' | 'replay' | 'stopped';
  /** The request failed outside the run (refused, connection lost): shown as the run's error. */
  clientError?: string;
  /** The reader asked to see a draft while MoA works. */
  draftWanted: boolean;
}

export interface RunViewElements {
  currentTurn: HTMLElement;
  conversation: HTMLElement;
  emptyState: HTMLElement;
  question: HTMLElement;
  runStatus: HTMLElement;
  runPreset: HTMLElement;
  runTime: HTMLElement;
  runTtft: HTMLElement;
  runTtftItem: HTMLElement;
  runTokens: HTMLElement;
  warnings: HTMLElement;
  layers: HTMLElement;
  draft: HTMLElement;
  draftLabel: HTMLElement;
  draftText: HTMLElement;
  answer: HTMLElement;
  degraded: HTMLElement;
  runError: HTMLElement;
}

interface CardElements {
  root: HTMLElement;
  model: HTMLElement;
  status: HTMLElement;
  text: HTMLElement;
  ranking: HTMLElement;
  error: HTMLElement;
  meta: HTMLElement;
  /** What was last written, to skip unchanged DOM writes. */
  rendered: { status?: string; model?: string; text?: string; ranking?: string; error?: string; meta?: string };
}

interface LayerElements {
  root: HTMLElement;
  status: HTMLElement;
  kind: HTMLElement;
  note: HTMLElement;
  ranking: HTMLElement;
  cards: CardElements[];
  rendered: { status?: string; kind?: string; note?: string; ranking?: string };
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (className) created.className = className;
  if (text !== undefined) created.textContent = text;
  return created;
}

function setText(target: HTMLElement, text: string): void {
  if (target.textContent !== text) target.textContent = text;
}

function agentLabel(agent: Pick<AgentResult, 'model' | 'name'>): string {
  return agent.name && agent.name !== agent.model ? `${agent.name} · ${agent.model}` : agent.model;
}

/** A layer's agent by its label, numbered when two agents of the layer share it. */
function agentName(layer: LayerResult | undefined, agent: number): string {
  const found = layer?.agents[agent];
  if (!found) return `agent ${agent + 1}`;
  const label = agentLabel(found);
  const same = layer.agents.filter((other) => agentLabel(other) === label).length;
  return same > 1 ? `${label} (#${agent + 1})` : label;
}

/**
 * What a card shows as its state: an agent stopped because the answer was written without it is
 * "not needed" (not a failure, not the straggler policy); one stopped because its layer was
 * skipped is "skipped".
 */
function shownAgentStatus(agent: AgentResult, layer: LayerResult): string {
  if (agent.status === 'cut' && agent.error?.code === 'not_needed') return 'not-needed';
  if (layer.status === 'skipped' && agent.status === 'failed' && agent.error?.code === 'aborted') return 'skipped';
  return agent.status;
}

const STATUS_LABELS: Record<string, string> = { 'not-needed': 'not needed' };

function agentMeta(agent: AgentResult, shownStatus: string, plannedModel: string | undefined): string {
  if (shownStatus === 'skipped' && agent.latencyMs === undefined) return '';
  const parts: string[] = [];
  parts.push(agent.latencyMs !== undefined ? formatDuration(agent.latencyMs) : '–');
  if (plannedModel !== undefined && plannedModel !== agent.model) parts.push(`instead of ${plannedModel}`);
  const tokens = agent.usage.inputTokens + agent.usage.outputTokens;
  if (tokens > 0 || agent.status === 'done') parts.push(`${formatUsage(agent.usage)} tokens`);
  if (agent.attempts > 1) parts.push(`${agent.attempts} attempts`);
  if (agent.steps !== undefined && agent.steps > 1) parts.push(`${agent.steps} steps`);
  if (agent.cached) parts.push('cached');
  if (agent.finishReason && agent.finishReason !== 'stop') parts.push(`finish: ${agent.finishReason}`);
  return parts.join(' | ');
}

/** The line under a card's text: why it stopped, or what it is retrying after. */
function agentNote(agent: AgentResult, shownStatus: string): { text: string; tone: 'error' | 'note' } {
  if (shownStatus === 'not-needed') return { text: `Not needed: ${agent.error?.message ?? 'the final answer was written without it'}`, tone: 'note' };
  if (shownStatus === 'skipped') return { text: '', tone: 'note' };
  if (agent.status === 'cut') return { text: `Cut by the straggler policy${agent.error ? `: ${agent.error.message}` : ''}`, tone: 'note' };
  if (agent.status === 'retrying') return { text: `Retrying after: ${agent.errors[agent.errors.length - 1]?.message ?? 'an error'}`, tone: 'note' };
  return { text: agent.error?.message ?? '', tone: 'error' };
}

/** A finished layer none of whose agents succeeded shows as failed; a skipped one as skipped. */
function layerStatus(layer: LayerResult): string {
  if (layer.status !== 'done') return layer.status;
  return layer.agents.some((agent) => agent.status === 'done') ? 'done' : 'failed';
}

function layerKind(layer: LayerResult, plan: PlannedLayer | undefined): string {
  const count = layer.agents.length;
  const kind = layer.aggregator
    ? count > 1
      ? `aggregator (${count} samples)`
      : 'aggregator'
    : layer.kind === 'rank'
      ? `reviewers (${count}): rank the answers`
      : layer.kind === 'propose'
        ? 'proposers'
        : `synthesizers (${count})`;
  const policy = plan?.aggregation;
  const how =
    policy?.mode === 'early'
      ? `early: starts from ${policy.after} answer${policy.after === 1 ? '' : 's'}${policy.maxRestarts > 0 ? `, at most ${policy.maxRestarts} restart${policy.maxRestarts === 1 ? '' : 's'}` : ''}`
      : policy?.mode === 'staircase'
        ? `staircase: writes as the answers grow (${policy.chunkTokens}-token chunks)`
        : plan?.window !== undefined
          ? `windows of ${plan.window} answers`
          : '';
  return how ? `${kind} · ${how}` : kind;
}

function reviewText(review: RankingReview | undefined, reviewed: LayerResult | undefined): string {
  if (!review) return '';
  if (!review.parsed) return 'Ranking: could not be read (left out of the aggregate)';
  return `Ranking: ${review.order.map((agent, position) => `${position + 1}. ${agentName(reviewed, agent)}`).join(' › ')}`;
}

const DEGRADED_LABELS: Record<DegradedEntry['reason'], string> = {
  failed: 'failed',
  cut: 'cut by the straggler policy',
  fallback: 'replaced by a fallback model',
  'left-out': 'left out',
};

export class RunView {
  private layerElements: LayerElements[] = [];
  private renderedMessages: ChatMessage[] | undefined;
  private renderedAnswer: string | undefined;
  private renderedDraft: string | undefined;
  private renderedDegraded: string | undefined;
  private frame: number | undefined;
  private state: RunViewState | undefined;

  constructor(private readonly elements: RunViewElements) {}

  /** Show this state at the next animation frame (several calls in one frame render once). */
  schedule(state: RunViewState): void {
    this.state = state;
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      if (this.state) this.render(this.state);
    });
  }

  /** Render now (e.g. before reading the DOM in a test, or when a run ends). */
  flush(): void {
    if (this.frame !== undefined) {
      cancelAnimationFrame(this.frame);
      this.frame = undefined;
    }
    if (this.state) this.render(this.state);
  }

  /** Forget everything shown: back to the empty page. */
  clear(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    this.state = undefined;
    this.layerElements = [];
    this.renderedMessages = undefined;
    this.renderedAnswer = undefined;
    this.renderedDraft = undefined;
    this.renderedDegraded = undefined;
    const { currentTurn, conversation, emptyState, layers, answer, warnings, runError, draft, draftText, degraded } = this.elements;
    currentTurn.hidden = true;
    emptyState.hidden = false;
    conversation.replaceChildren();
    layers.replaceChildren();
    answer.replaceChildren();
    answer.hidden = false;
    draft.hidden = true;
    draftText.replaceChildren();
    degraded.hidden = true;
    degraded.replaceChildren();
    warnings.replaceChildren();
    runError.hidden = true;
    delete currentTurn.dataset.runId;
  }

  private render({ run, mode, clientError, draftWanted }: RunViewState): void {
    const { result } = run;
    const elements = this.elements;
    elements.emptyState.hidden = true;
    elements.currentTurn.hidden = false;
    if (result.runId) elements.currentTurn.dataset.runId = result.runId;
    else delete elements.currentTurn.dataset.runId;

    if (this.renderedMessages !== result.messages) {
      this.renderedMessages = result.messages;
      this.renderConversation(result.messages);
      setText(elements.question, lastUserText(result.messages));
    }

    const status = result.status !== 'running' ? result.status : clientError !== undefined ? 'failed' : mode === 'stopped' ? 'stopped' : 'running';
    const statusLabel = mode === 'replay' && status !== 'running' ? `${status} (replay)` : mode === 'replay' ? 'replaying' : status;
    elements.runStatus.dataset.status = status;
    setText(elements.runStatus, statusLabel);
    elements.currentTurn.dataset.status = status;
    setText(elements.runPreset, result.preset ?? 'custom');
    setText(elements.runTime, formatDuration(result.latencyMs));
    const ttft = timeToFirstToken(run);
    elements.runTtftItem.hidden = ttft === undefined;
    setText(elements.runTtft, formatDuration(ttft));
    const total = result.usage.inputTokens + result.usage.outputTokens;
    setText(elements.runTokens, `${formatCount(total)} (${formatUsage(result.usage)})`);

    if (elements.warnings.childElementCount !== result.warnings.length) {
      elements.warnings.replaceChildren(...result.warnings.map((warning) => element('li', undefined, warning.message)));
    }

    this.renderLayers(run);
    this.renderAnswer(run, status, clientError, draftWanted);
    this.renderDegraded(run, status);
  }

  private renderConversation(messages: ChatMessage[]): void {
    const turns = visibleTurns(messages).map((message) => {
      const turn = element('div', `turn ${message.role === 'user' ? 'user-turn' : 'assistant-turn'}`);
      turn.append(element('div', 'turn-role', message.role === 'user' ? 'You' : 'Answer'));
      if (message.role === 'user') {
        turn.append(element('div', 'turn-text', message.content));
      } else {
        const answer = element('div', 'answer markdown');
        answer.innerHTML = renderMarkdown(message.content);
        turn.append(answer);
      }
      return turn;
    });
    this.elements.conversation.replaceChildren(...turns);
  }

  private renderLayers(run: PageRun): void {
    const { result } = run;
    const container = this.elements.layers;
    if (this.layerElements.length !== result.layers.length || this.layerElements.some((layer, index) => layer.cards.length !== result.layers[index]?.agents.length)) {
      this.layerElements = result.layers.map((layer) => this.buildLayer(layer));
      container.replaceChildren(...this.layerElements.map((layer) => layer.root));
    }
    result.layers.forEach((layer, layerIndex) => {
      const layerElements = this.layerElements[layerIndex];
      if (!layerElements) return;
      const rendered = layerElements.rendered;
      const shownStatus = layerStatus(layer);
      if (rendered.status !== shownStatus) {
        rendered.status = shownStatus;
        layerElements.root.dataset.status = shownStatus;
        layerElements.status.dataset.status = shownStatus;
        setText(layerElements.status, shownStatus);
      }
      const kind = layerKind(layer, run.planned?.[layerIndex]);
      if (rendered.kind !== kind) {
        rendered.kind = kind;
        setText(layerElements.kind, kind);
      }
      // The engine's message says it all ("layer 2 skipped: the answers of layer 1 agree (…)").
      const note = layer.skipped ? layer.skipped.message.charAt(0).toUpperCase() + layer.skipped.message.slice(1) : '';
      if (rendered.note !== note) {
        rendered.note = note;
        setText(layerElements.note, note);
        layerElements.note.hidden = note === '';
        if (layer.skipped) layerElements.root.dataset.skipReason = layer.skipped.reason;
        else delete layerElements.root.dataset.skipReason;
      }
      this.renderRanking(layerElements, layer, result.layers[layerIndex - 1]);
      layer.agents.forEach((agent, agentIndex) => {
        const card = layerElements.cards[agentIndex];
        if (card) this.renderCard(card, agent, layer, result, run.planned?.[layerIndex]?.agents[agentIndex]?.model);
      });
    });
  }

  /** A rank layer's aggregate: the reviewed answers, best first. */
  private renderRanking(layerElements: LayerElements, layer: LayerResult, reviewed: LayerResult | undefined): void {
    const entries = layer.ranking?.ranking ?? [];
    const key = JSON.stringify(entries);
    if (layerElements.rendered.ranking === key) return;
    layerElements.rendered.ranking = key;
    const list = layerElements.ranking;
    list.replaceChildren(
      ...entries.map((entry) =>
        element(
          'li',
          undefined,
          entry.votes > 0
            ? `${agentName(reviewed, entry.agent)}: mean position ${entry.meanRank} from ${entry.votes} review${entry.votes === 1 ? '' : 's'}`
            : `${agentName(reviewed, entry.agent)}: not ranked`,
        ),
      ),
    );
    list.hidden = entries.length === 0;
  }

  private buildLayer(layer: LayerResult): LayerElements {
    const root = element('section', 'layer');
    root.dataset.layer = String(layer.index);
    root.dataset.kind = layer.kind;
    const title = element('h2', 'layer-title');
    const headingId = `layer-${layer.index}-title`;
    title.id = headingId;
    root.setAttribute('aria-labelledby', headingId);
    const kind = element('span', 'layer-kind');
    title.append(element('span', undefined, `Layer ${layer.index + 1}`), kind);
    const status = element('span', 'status-badge');
    title.append(status);
    const note = element('p', 'layer-note');
    note.hidden = true;
    const ranking = element('ol', 'layer-ranking');
    ranking.setAttribute('aria-label', 'Aggregate ranking, best first');
    ranking.hidden = true;
    const cardsContainer = element('div', 'cards');
    const cards = layer.agents.map((_agent, agentIndex) => {
      const card = element('article', 'agent-card');
      card.dataset.layer = String(layer.index);
      card.dataset.agent = String(agentIndex);
      const head = element('header', 'agent-head');
      const model = element('span', 'agent-model');
      const badge = element('span', 'status-badge agent-status');
      head.append(model, badge);
      const text = element('div', 'agent-text');
      text.setAttribute('tabindex', '0');
      const rankingLine = element('p', 'agent-ranking');
      rankingLine.hidden = true;
      const error = element('p', 'agent-error');
      error.hidden = true;
      const meta = element('footer', 'agent-meta');
      card.append(head, text, rankingLine, error, meta);
      cardsContainer.append(card);
      return { root: card, model, status: badge, text, ranking: rankingLine, error, meta, rendered: {} } satisfies CardElements;
    });
    root.append(title, note, ranking, cardsContainer);
    return { root, status, kind, note, ranking, cards, rendered: {} };
  }

  private renderCard(card: CardElements, agent: AgentResult, layer: LayerResult, result: MoAResult, plannedModel: string | undefined): void {
    const rendered = card.rendered;
    const shownStatus = shownAgentStatus(agent, layer);
    const statusLabel = STATUS_LABELS[shownStatus] ?? shownStatus;
    if (rendered.status !== shownStatus) {
      // A finished answer is read from its start.
      if (shownStatus === 'done' && rendered.status !== undefined) card.text.scrollTop = 0;
      rendered.status = shownStatus;
      card.root.dataset.status = shownStatus;
      card.status.dataset.status = shownStatus;
      card.status.textContent = statusLabel;
    }
    const label = agentLabel(agent);
    if (rendered.model !== label) {
      rendered.model = label;
      card.model.textContent = label;
      card.model.title = label;
    }
    if (card.root.getAttribute('aria-label') !== `${label}: ${statusLabel}`) card.root.setAttribute('aria-label', `${label}: ${statusLabel}`);
    const text = agent.text ?? '';
    if (rendered.text !== text) {
      const textElement = card.text;
      const pinned = textElement.scrollTop + textElement.clientHeight >= textElement.scrollHeight - 4;
      rendered.text = text;
      textElement.textContent = text;
      // Follow a streaming answer unless the reader scrolled up.
      if (pinned && agent.status === 'streaming') textElement.scrollTop = textElement.scrollHeight;
    }
    const agentIndex = Number(card.root.dataset.agent);
    const ranking =
      layer.kind === 'rank'
        ? reviewText(
            layer.ranking?.reviews.find((review) => review.agent === agentIndex),
            result.layers[layer.index - 1],
          )
        : '';
    if (rendered.ranking !== ranking) {
      rendered.ranking = ranking;
      card.ranking.textContent = ranking;
      card.ranking.hidden = ranking === '';
    }
    const note = agentNote(agent, shownStatus);
    const shownNote = `${note.tone}:${note.text}`;
    if (rendered.error !== shownNote) {
      rendered.error = shownNote;
      card.error.textContent = note.text;
      card.error.dataset.tone = note.tone;
      card.error.hidden = note.text === '';
    }
    const meta = agentMeta(agent, shownStatus, plannedModel);
    if (rendered.meta !== meta) {
      rendered.meta = meta;
      card.meta.textContent = meta;
    }
  }

  private renderAnswer(run: PageRun, status: string, clientError: string | undefined, draftWanted: boolean): void {
    const { result } = run;
    const { answer, runError, draft, draftLabel, draftText } = this.elements;
    const text = answerSoFar(run);
    if (this.renderedAnswer !== text) {
      this.renderedAnswer = text;
      answer.innerHTML = text ? renderMarkdown(text) : '';
    }
    // Until the answer's first token, the draft stands in for it, labelled; never both.
    const shownDraft = draftToShow(run, draftWanted);
    const draftKey = shownDraft ? `${status}\u0000${shownDraft.model}\u0000${shownDraft.text}` : '';
    if (this.renderedDraft !== draftKey) {
      this.renderedDraft = draftKey;
      draft.hidden = !shownDraft;
      if (shownDraft) {
        draft.dataset.model = shownDraft.model;
        const ending =
          status === 'running'
            ? 'the MoA answer replaces it as soon as it starts'
            : status === 'done'
              ? 'the run ended without an answer'
              : `the run ${status === 'stopped' ? 'stopped' : 'failed'} before its answer`;
        setText(draftLabel, `Draft from ${shownDraft.model} · ${ending}`);
        draftText.innerHTML = renderMarkdown(shownDraft.text);
      } else {
        delete draft.dataset.model;
        draftText.replaceChildren();
      }
    }
    answer.hidden = shownDraft !== undefined;
    answer.setAttribute('aria-busy', String(status === 'running'));
    answer.dataset.status = status;
    const errorMessage = result.status === 'failed' ? (result.error?.message ?? 'The run failed') : result.status === 'running' ? (clientError ?? '') : '';
    if (runError.textContent !== errorMessage) runError.textContent = errorMessage;
    runError.hidden = errorMessage === '';
  }

  /** Said plainly under the answer: which planned agents it was made without, and why. */
  private renderDegraded(run: PageRun, status: string): void {
    const { result } = run;
    const { degraded } = this.elements;
    const entries = result.degraded;
    const key = `${status}\u0000${JSON.stringify(entries)}`;
    if (this.renderedDegraded === key) return;
    this.renderedDegraded = key;
    degraded.hidden = entries.length === 0;
    if (entries.length === 0) {
      degraded.replaceChildren();
      return;
    }
    const title = element(
      'p',
      'degraded-title',
      status === 'running'
        ? 'So far this run has less than planned:'
        : status === 'done'
          ? 'This answer was made with less than planned:'
          : 'This run had less than planned:',
    );
    const list = element('ul', 'degraded-list');
    for (const entry of entries) {
      const planned = run.planned?.[entry.layer]?.agents[entry.agent];
      const model = planned ? agentLabel(planned) : agentName(result.layers[entry.layer], entry.agent);
      const item = element('li');
      item.dataset.reason = entry.reason;
      item.append(
        element('span', 'degraded-who', `Layer ${entry.layer + 1} · ${model}`),
        element('span', 'degraded-reason', ` ${DEGRADED_LABELS[entry.reason]}`),
        element('span', 'degraded-message', `: ${entry.message}`),
      );
      list.append(item);
    }
    degraded.replaceChildren(title, list);
  }
}
