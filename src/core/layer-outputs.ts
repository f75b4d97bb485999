/**
 * What a layer hands the next one, while it is still being written. Each agent's answer grows
 * (`AgentOutput`: committed text only, never taken back); the layer as a whole (`LayerOutputs`)
 * tells when it started or was skipped, and, once complete, which answers the next layer gets and
 * in what order (a rank layer reorders them and adds a summary). Consumers subscribe to changes
 * instead of polling. No `node:` imports.
 */

export type OutputState = 'waiting' | 'running' | 'done' | 'failed';

/** Characters per token for the engine's own estimates (English text averages about four). */
export const CHARACTERS_PER_TOKEN = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

export class AgentOutput {
  text = '';
  state: OutputState = 'waiting';
  private readonly listeners = new Set<() => void>();
  private resolveSettled!: () => void;
  /** Resolves once the agent is done or failed. */
  readonly settled = new Promise<void>((resolve) => (this.resolveSettled = resolve));

  constructor(
    readonly layer: number,
    readonly agent: number,
  ) {}

  get tokens(): number {
    return estimateTokens(this.text);
  }

  get finished(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  start(): void {
    if (this.state === 'waiting') {
      this.state = 'running';
      this.notify();
    }
  }

  append(delta: string): void {
    if (!delta) return;
    this.text += delta;
    this.notify();
  }

  /** The agent ended: `text` is its whole answer (or '' when it failed). */
  finish(ok: boolean, text: string): void {
    if (this.finished) return;
    this.state = ok ? 'done' : 'failed';
    this.text = ok ? text : '';
    this.notify();
    this.resolveSettled();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** One reference as the next layer sees it. */
export interface Reference {
  /** The agent of the source layer that wrote it. */
  source: number;
  text: string;
  /** Still being written (a staircase step reads references before they end). */
  partial: boolean;
}

/** A completed layer, as the next one reads it. */
export interface CompletedLayer {
  /** The source layer's index (the layer itself, or the one a skipped layer passes on). */
  layer: number;
  references: Reference[];
  /** A rank layer's summary of the peer review, for the next layer's instruction. */
  summary?: string;
}

export class LayerOutputs {
  readonly agents: AgentOutput[];
  private startedFlag = false;
  private skippedFlag = false;
  private resolveResolution!: (outputs: LayerOutputs) => void;
  private resolveComplete!: (layer: CompletedLayer) => void;
  private rejectComplete!: (error: unknown) => void;
  /** Where consumers read from: this layer once it starts, or the layer a skipped one passes on. */
  readonly resolution = new Promise<LayerOutputs>((resolve) => (this.resolveResolution = resolve));
  /** The answers the next layer gets, once this layer ended (rejects when it failed). */
  readonly complete = new Promise<CompletedLayer>((resolve, reject) => {
    this.resolveComplete = resolve;
    this.rejectComplete = reject;
  });

  constructor(
    readonly index: number,
    agentCount: number,
  ) {
    this.agents = Array.from({ length: agentCount }, (_, agent) => new AgentOutput(index, agent));
    this.complete.catch(() => undefined); // read by consumers; a failure is also the run's error
  }

  get started(): boolean {
    return this.startedFlag;
  }

  get skipped(): boolean {
    return this.skippedFlag;
  }

  markStarted(): void {
    if (this.startedFlag || this.skippedFlag) return;
    this.startedFlag = true;
    this.resolveResolution(this);
  }

  /** The layer will not run: its consumers read `source` instead. */
  markSkipped(source: LayerOutputs): void {
    if (this.startedFlag || this.skippedFlag) return;
    this.skippedFlag = true;
    void source.resolution.then((resolved) => this.resolveResolution(resolved));
    source.complete.then(
      (layer) => this.resolveComplete(layer),
      (error: unknown) => this.rejectComplete(error),
    );
  }

  finish(layer: CompletedLayer): void {
    this.resolveComplete(layer);
  }

  fail(error: unknown): void {
    this.rejectComplete(error);
  }

  /** Calls `listener` whenever any agent's answer grows or ends; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    const offs = this.agents.map((agent) => agent.onChange(listener));
    return () => offs.forEach((off) => off());
  }
}
