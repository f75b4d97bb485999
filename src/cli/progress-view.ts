/**
 * Live per-layer progress on stderr: a redrawn block on a TTY (which agents are
 * waiting, running, done or failed, with tokens and time), plain lines otherwise.
 * Both are folds of the event stream through the shared reducer.
 */
import type { MoAEvent } from '../core/events.js';
import { applyEvent, initialResult, type AgentResult, type MoAResult } from '../core/reducer.js';
import { truncate, type Colors } from './terminal.js';
import { formatCount, formatDuration, plural } from '../util/format.js';

export interface ProgressView {
  onEvent(event: MoAEvent): void;
  /**
   * The final answer is about to stream to the same terminal: stop redrawing. The TTY view
   * leaves the finished layers on screen and keeps the final layer for `finish()`, which
   * prints it below the answer with its real outcome (never a frozen "streaming").
   */
  answerStarts(): void;
  /** The run is over: the last frame, every agent done, failed or cut. */
  finish(): void;
}

interface Output {
  write(text: string): unknown;
  columns?: number;
  isTTY?: boolean;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function layerTitle(state: MoAResult, index: number): string {
  const layer = state.layers[index]!;
  return layer.aggregator ? 'aggregator' : `layer ${index + 1}/${state.layers.length}`;
}

function agentLine(agent: AgentResult, colors: Colors, frame: number, now: number, width: number): string {
  const name = agent.name ? `${agent.name} (${agent.model})` : agent.model;
  let mark: string;
  let detail: string;
  switch (agent.status) {
    case 'waiting':
      mark = colors.dim('·');
      detail = colors.dim('waiting');
      break;
    case 'running':
    case 'streaming':
      mark = colors.cyan(SPINNER[frame % SPINNER.length]);
      detail = colors.dim(agent.status === 'streaming' ? 'streaming' : `running${agent.attempts > 1 ? ` (attempt ${agent.attempts})` : ''}`);
      break;
    case 'retrying':
      mark = colors.yellow('↻');
      detail = colors.yellow(`retrying: ${agent.errors[agent.errors.length - 1]?.message ?? ''}`);
      break;
    case 'done':
      mark = colors.green('✓');
      detail = colors.dim(`${formatDuration(agent.latencyMs ?? now)} · ${formatCount(agent.usage.outputTokens)} tok`);
      break;
    case 'skipped':
      mark = colors.dim('↷');
      detail = colors.dim('skipped');
      break;
    case 'cut':
      mark = colors.yellow('✂');
      detail = colors.yellow('cut (straggler)');
      break;
    case 'failed':
      mark = colors.red('✗');
      detail = colors.red(agent.error?.message ?? 'failed');
      break;
  }
  return truncate(`  ${mark} ${name.padEnd(36)} ${detail}`, width + 20);
}

export function createTtyProgress(output: Output, colors: Colors): ProgressView {
  const state = initialResult();
  let drawnLines = 0;
  let frame = 0;
  /** live: the block is redrawn in place; answering: the answer streams below it; finished: nothing more. */
  let mode: 'live' | 'answering' | 'finished' = 'live';
  /** Layers already printed for good (above the answer). */
  let printedLayers = 0;
  const timer = setInterval(() => draw(), 100);
  timer.unref();

  function layerLines(from: number, to: number): string[] {
    const width = Math.max(40, (output.columns ?? 100) - 1);
    const lines: string[] = [];
    for (let index = from; index < to; index++) {
      const layer = state.layers[index]!;
      if (layer.status === 'waiting') {
        // A layer the run never reached is "not run" once the run is over, not still "waiting".
        lines.push(colors.dim(`${layerTitle(state, index)}  ${state.status === 'running' ? 'waiting' : 'not run'}`));
        continue;
      }
      lines.push(colors.bold(layerTitle(state, index)));
      for (const agent of layer.agents) lines.push(agentLine(agent, colors, frame, state.latencyMs, width));
    }
    return lines;
  }

  /** Redraws the block in place (live mode only). */
  function draw(): void {
    if (mode !== 'live' || state.layers.length === 0) return;
    frame++;
    const lines = layerLines(0, state.layers.length);
    const erase = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[0J` : '';
    output.write(`${erase}${lines.join('\n')}\n`);
    drawnLines = lines.length;
  }

  function stop(): void {
    clearInterval(timer);
  }

  return {
    onEvent(event) {
      applyEvent(state, event);
      if (event.type === 'layer-start' || event.type === 'agent-end' || event.type === 'agent-error' || event.type === 'layer-end') {
        draw();
      }
    },
    answerStarts() {
      if (mode !== 'live') return;
      stop();
      // Replace the live block by the layers that are over; the final one follows the answer.
      printedLayers = Math.max(0, state.layers.length - 1);
      const lines = layerLines(0, printedLayers);
      const erase = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[0J` : '';
      if (erase || lines.length) output.write(`${erase}${lines.map((line) => `${line}\n`).join('')}`);
      drawnLines = 0;
      mode = 'answering';
    },
    finish() {
      if (mode === 'finished') return;
      stop();
      if (mode === 'live') {
        draw();
      } else {
        const lines = layerLines(printedLayers, state.layers.length);
        if (lines.length) output.write(`${lines.join('\n')}\n`);
      }
      mode = 'finished';
    },
  };
}

/** Plain progress lines for logs and pipes: layer starts and ends, failures, warnings. */
export function createPlainProgress(output: Output, colors: Colors): ProgressView {
  const state = initialResult();
  return {
    onEvent(event) {
      applyEvent(state, event);
      switch (event.type) {
        case 'layer-start': {
          const layer = state.layers[event.layer]!;
          output.write(`moa: ${layerTitle(state, event.layer)}: ${layer.aggregator ? layer.agents[0]!.model : plural(layer.agents.length, 'proposer')} started\n`);
          break;
        }
        case 'layer-end': {
          const layer = state.layers[event.layer]!;
          const parts = [`${event.succeeded.length}/${layer.agents.length} succeeded`];
          if (event.failed.length) parts.push(`${event.failed.length} failed`);
          if (event.cut.length) parts.push(`${event.cut.length} cut`);
          output.write(`moa: ${layerTitle(state, event.layer)} done at ${formatDuration(event.t)}: ${parts.join(', ')}\n`);
          break;
        }
        case 'agent-retry':
          output.write(
            colors.yellow(`moa: ${event.error.message}; ${event.nextModel ? `falling back to ${event.nextModel}` : `retrying in ${formatDuration(event.delayMs)}`}\n`),
          );
          break;
        case 'warning':
          output.write(colors.yellow(`moa: warning: ${event.message}\n`));
          break;
      }
    },
    answerStarts() {},
    finish() {},
  };
}

/** One line after the answer: who answered, time and tokens. */
export function summaryLine(result: MoAResult, colors: Colors): string {
  const layers = result.layers.map((layer) => {
    if (layer.status === 'skipped') return `L${layer.index + 1} skipped`;
    const ok = layer.agents.filter((agent) => agent.status === 'done').length;
    return layer.aggregator
      ? `aggregator ${layer.agents.find((agent) => agent.status === 'done')?.model ?? layer.agents[0]?.model ?? ''}`
      : `L${layer.index + 1} ${ok}/${layer.agents.length}`;
  });
  const tokens = result.usage.inputTokens + result.usage.outputTokens;
  const ttft = result.ttftMs !== undefined ? ` · first token ${formatDuration(result.ttftMs)}` : '';
  const line = colors.dim(
    `${layers.join(' · ')} · ${formatDuration(result.latencyMs)}${ttft} · ${plural(tokens, 'token')} (${formatCount(result.usage.inputTokens)} in, ${formatCount(result.usage.outputTokens)} out)`,
  );
  return result.degraded.length > 0 ? `${line}\n${colors.yellow(degradedLine(result))}` : line;
}

/** Said plainly when the answer was made with less than planned. */
export function degradedLine(result: MoAResult): string {
  const parts = result.degraded.map((entry) => {
    const agent = result.layers[entry.layer]?.agents[entry.agent];
    const where = result.layers[entry.layer]?.aggregator ? 'aggregator' : `layer ${entry.layer + 1}`;
    const what = { failed: 'failed', cut: 'was cut', fallback: 'answered by its fallback', 'left-out': 'came too late and was left out' }[entry.reason];
    return `${where}: ${agent?.model ?? `agent ${entry.agent + 1}`} ${what}`;
  });
  return `degraded: the answer was made with less than planned (${parts.join('; ')})`;
}
