/**
 * Live per-layer progress on stderr: a redrawn block on a TTY (which agents are
 * waiting, running, done or failed, with tokens and time), plain lines otherwise.
 * Both are folds of the event stream through the shared reducer.
 */
import type { MoAEvent } from '../core/events.js';
import { applyEvent, initialResult, type AgentResult, type MoAResult } from '../core/reducer.js';
import { formatCount, formatDuration, truncate, type Colors } from './terminal.js';

export interface ProgressView {
  onEvent(event: MoAEvent): void;
  /** Stop redrawing (before the answer streams to the same terminal). */
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
      mark = colors.cyan(SPINNER[frame % SPINNER.length]!);
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
  let finished = false;
  const timer = setInterval(() => draw(), 100);
  timer.unref();

  function draw(): void {
    if (finished || state.layers.length === 0) return;
    frame++;
    const width = Math.max(40, (output.columns ?? 100) - 1);
    const lines: string[] = [];
    state.layers.forEach((layer, index) => {
      if (layer.status === 'waiting') {
        lines.push(colors.dim(`${layerTitle(state, index)}  waiting`));
        return;
      }
      lines.push(colors.bold(layerTitle(state, index)));
      for (const agent of layer.agents) lines.push(agentLine(agent, colors, frame, state.latencyMs, width));
    });
    const erase = drawnLines > 0 ? `\x1b[${drawnLines}A\x1b[0J` : '';
    output.write(`${erase}${lines.join('\n')}\n`);
    drawnLines = lines.length;
  }

  return {
    onEvent(event) {
      applyEvent(state, event);
      if (event.type === 'layer-start' || event.type === 'agent-end' || event.type === 'agent-error' || event.type === 'layer-end') {
        draw();
      }
    },
    finish() {
      if (finished) return;
      draw();
      finished = true;
      clearInterval(timer);
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
          output.write(
            `moa: ${layerTitle(state, event.layer)}: ${layer.aggregator ? layer.agents[0]!.model : `${layer.agents.length} proposers`} started\n`,
          );
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
            colors.yellow(
              `moa: ${event.error.message}; ${event.nextModel ? `falling back to ${event.nextModel}` : `retrying in ${formatDuration(event.delayMs)}`}\n`,
            ),
          );
          break;
        case 'warning':
          output.write(colors.yellow(`moa: warning: ${event.message}\n`));
          break;
      }
    },
    finish() {},
  };
}

/** One line after the answer: who answered, time and tokens. */
export function summaryLine(result: MoAResult, colors: Colors): string {
  const layers = result.layers.map((layer) => {
    const ok = layer.agents.filter((agent) => agent.status === 'done').length;
    return layer.aggregator ? `aggregator ${layer.agents[0]?.model ?? ''}` : `L${layer.index + 1} ${ok}/${layer.agents.length}`;
  });
  const tokens = result.usage.inputTokens + result.usage.outputTokens;
  return colors.dim(
    `${layers.join(' · ')} · ${formatDuration(result.latencyMs)} · ${formatCount(tokens)} tokens (${formatCount(result.usage.inputTokens)} in, ${formatCount(result.usage.outputTokens)} out)`,
  );
}
