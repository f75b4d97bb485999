/**
 * The live view of one run, rendered from the reducer's MoAResult: a section
 * per layer, a card per agent (state, streamed text, latency, tokens), totals,
 * warnings and the final answer as sanitized Markdown. Renders at most once
 * per animation frame and touches only what changed since the last frame.
 */
import type { ChatMessage } from '../core/events.js';
import type { AgentResult, LayerResult, MoAResult } from '../core/reducer.js';
import { lastUserText, visibleTurns } from './conversation.js';
import { formatCount, formatDuration, formatUsage } from './format.js';
import { renderMarkdown } from './markdown.js';

/** What the page knows beyond the events: a stopped run, a replay. */
export interface RunViewState {
  result: MoAResult;
  /** 'live' while a request streams; 'replay' for a trace; 'stopped' after Stop. */
  mode: 'live' | 'replay' | 'stopped';
  /** The request failed outside the run (refused, connection lost): shown as the run's error. */
  clientError?: string;
}

export interface RunViewElements {
  currentTurn: HTMLElement;
  conversation: HTMLElement;
  emptyState: HTMLElement;
  question: HTMLElement;
  runStatus: HTMLElement;
  runPreset: HTMLElement;
  runTime: HTMLElement;
  runTokens: HTMLElement;
  warnings: HTMLElement;
  layers: HTMLElement;
  answer: HTMLElement;
  runError: HTMLElement;
}

interface CardElements {
  root: HTMLElement;
  model: HTMLElement;
  status: HTMLElement;
  text: HTMLElement;
  error: HTMLElement;
  meta: HTMLElement;
  /** What was last written, to skip unchanged DOM writes. */
  rendered: { status?: string; model?: string; text?: string; error?: string; meta?: string };
}

interface LayerElements {
  root: HTMLElement;
  status: HTMLElement;
  cards: CardElements[];
  renderedStatus?: string;
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

function agentLabel(agent: AgentResult): string {
  return agent.name && agent.name !== agent.model ? `${agent.name} · ${agent.model}` : agent.model;
}

function agentMeta(agent: AgentResult): string {
  const parts: string[] = [];
  parts.push(agent.latencyMs !== undefined ? formatDuration(agent.latencyMs) : '–');
  const tokens = agent.usage.inputTokens + agent.usage.outputTokens;
  if (tokens > 0 || agent.status === 'done') parts.push(`${formatUsage(agent.usage)} tokens`);
  if (agent.attempts > 1) parts.push(`${agent.attempts} attempts`);
  if (agent.finishReason && agent.finishReason !== 'stop') parts.push(`finish: ${agent.finishReason}`);
  return parts.join(' | ');
}

/** A finished layer none of whose agents succeeded shows as failed. */
function layerStatus(layer: LayerResult): string {
  if (layer.status !== 'done') return layer.status;
  return layer.agents.some((agent) => agent.status === 'done') ? 'done' : 'failed';
}

function layerKind(layer: LayerResult, count: number): string {
  if (layer.aggregator) return 'aggregator';
  return layer.index === 0 ? 'proposers' : `synthesizers (${count})`;
}

export class RunView {
  private layerElements: LayerElements[] = [];
  private renderedMessages: ChatMessage[] | undefined;
  private renderedAnswer: string | undefined;
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
    const { currentTurn, conversation, emptyState, layers, answer, warnings, runError } = this.elements;
    currentTurn.hidden = true;
    emptyState.hidden = false;
    conversation.replaceChildren();
    layers.replaceChildren();
    answer.replaceChildren();
    warnings.replaceChildren();
    runError.hidden = true;
    delete currentTurn.dataset.runId;
  }

  private render({ result, mode, clientError }: RunViewState): void {
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

    const status =
      result.status !== 'running' ? result.status : clientError !== undefined ? 'failed' : mode === 'stopped' ? 'stopped' : 'running';
    const statusLabel = mode === 'replay' && status !== 'running' ? `${status} (replay)` : mode === 'replay' ? 'replaying' : status;
    elements.runStatus.dataset.status = status;
    setText(elements.runStatus, statusLabel);
    elements.currentTurn.dataset.status = status;
    setText(elements.runPreset, result.preset ?? 'custom');
    setText(elements.runTime, formatDuration(result.latencyMs));
    const total = result.usage.inputTokens + result.usage.outputTokens;
    setText(elements.runTokens, `${formatCount(total)} (${formatUsage(result.usage)})`);

    if (elements.warnings.childElementCount !== result.warnings.length) {
      elements.warnings.replaceChildren(
        ...result.warnings.map((warning) => element('li', undefined, warning.message)),
      );
    }

    this.renderLayers(result);
    this.renderAnswer(result, status, clientError);
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

  private renderLayers(result: MoAResult): void {
    const container = this.elements.layers;
    if (this.layerElements.length !== result.layers.length || this.layerElements.some((layer, index) => layer.cards.length !== result.layers[index]?.agents.length)) {
      this.layerElements = result.layers.map((layer) => this.buildLayer(layer));
      container.replaceChildren(...this.layerElements.map((layer) => layer.root));
    }
    result.layers.forEach((layer, layerIndex) => {
      const layerElements = this.layerElements[layerIndex];
      if (!layerElements) return;
      const shownStatus = layerStatus(layer);
      if (layerElements.renderedStatus !== shownStatus) {
        layerElements.renderedStatus = shownStatus;
        layerElements.root.dataset.status = shownStatus;
        layerElements.status.dataset.status = shownStatus;
        setText(layerElements.status, shownStatus);
      }
      layer.agents.forEach((agent, agentIndex) => {
        const card = layerElements.cards[agentIndex];
        if (card) this.renderCard(card, agent);
      });
    });
  }

  private buildLayer(layer: LayerResult): LayerElements {
    const root = element('section', 'layer');
    root.dataset.layer = String(layer.index);
    const title = element('h2', 'layer-title');
    const headingId = `layer-${layer.index}-title`;
    title.id = headingId;
    root.setAttribute('aria-labelledby', headingId);
    title.append(
      element('span', undefined, `Layer ${layer.index + 1}`),
      element('span', 'layer-kind', layerKind(layer, layer.agents.length)),
    );
    const status = element('span', 'status-badge');
    title.append(status);
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
      const error = element('p', 'agent-error');
      error.hidden = true;
      const meta = element('footer', 'agent-meta');
      card.append(head, text, error, meta);
      cardsContainer.append(card);
      return { root: card, model, status: badge, text, error, meta, rendered: {} } satisfies CardElements;
    });
    root.append(title, cardsContainer);
    return { root, status, cards };
  }

  private renderCard(card: CardElements, agent: AgentResult): void {
    const rendered = card.rendered;
    if (rendered.status !== agent.status) {
      // A finished answer is read from its start.
      if (agent.status === 'done' && rendered.status !== undefined) card.text.scrollTop = 0;
      rendered.status = agent.status;
      card.root.dataset.status = agent.status;
      card.status.dataset.status = agent.status;
      card.status.textContent = agent.status;
    }
    const label = agentLabel(agent);
    if (rendered.model !== label) {
      rendered.model = label;
      card.model.textContent = label;
      card.model.title = label;
      card.root.setAttribute('aria-label', `${label}: ${agent.status}`);
    } else if (card.root.getAttribute('aria-label') !== `${label}: ${agent.status}`) {
      card.root.setAttribute('aria-label', `${label}: ${agent.status}`);
    }
    const text = agent.text ?? '';
    if (rendered.text !== text) {
      const textElement = card.text;
      const pinned = textElement.scrollTop + textElement.clientHeight >= textElement.scrollHeight - 4;
      rendered.text = text;
      textElement.textContent = text;
      // Follow a streaming answer unless the reader scrolled up.
      if (pinned && agent.status === 'streaming') textElement.scrollTop = textElement.scrollHeight;
    }
    const errorText = agent.status === 'cut' ? `Cut by the straggler policy${agent.error ? `: ${agent.error.message}` : ''}` : (agent.error?.message ?? '');
    const retryNote = agent.status === 'retrying' ? `Retrying after: ${agent.errors[agent.errors.length - 1]?.message ?? 'an error'}` : '';
    const shownError = errorText || retryNote;
    if (rendered.error !== shownError) {
      rendered.error = shownError;
      card.error.textContent = shownError;
      card.error.hidden = shownError === '';
    }
    const meta = agentMeta(agent);
    if (rendered.meta !== meta) {
      rendered.meta = meta;
      card.meta.textContent = meta;
    }
  }

  private renderAnswer(result: MoAResult, status: string, clientError: string | undefined): void {
    const { answer, runError } = this.elements;
    // While the aggregator streams, its partial text is the answer so far.
    const finalLayer = result.layers[result.layers.length - 1];
    const streaming = finalLayer?.aggregator ? finalLayer.agents.find((agent) => agent.status === 'streaming' || agent.status === 'done') : undefined;
    const text = result.status === 'done' ? result.text : (streaming?.text ?? '');
    if (this.renderedAnswer !== text) {
      this.renderedAnswer = text;
      answer.innerHTML = text ? renderMarkdown(text) : '';
    }
    answer.setAttribute('aria-busy', String(status === 'running'));
    answer.dataset.status = status;
    const errorMessage =
      result.status === 'failed' ? (result.error?.message ?? 'The run failed') : result.status === 'running' ? (clientError ?? '') : '';
    if (runError.textContent !== errorMessage) runError.textContent = errorMessage;
    runError.hidden = errorMessage === '';
  }
}
