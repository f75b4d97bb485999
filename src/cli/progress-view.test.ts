import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { apiError, mockModel } from '../../test/support/engine-mocks.js';
import type { MoAEvent } from '../core/events.js';
import { streamMoA } from '../core/stream-moa.js';
import { createPlainProgress, createTtyProgress, summaryLine } from './progress-view.js';

const colors = pc.createColors(false);

/** The events of a real run over mock models (2 proposers, or `proposers`, then an aggregator). */
async function runEvents(options: { proposers?: number; aggregatorFails?: boolean; proposersFail?: boolean } = {}): Promise<MoAEvent[]> {
  const events: MoAEvent[] = [];
  const proposers = Array.from({ length: options.proposers ?? 2 }, (_, index) =>
    mockModel(`mock:p${index + 1}`, () => {
      if (options.proposersFail) throw apiError(400, `p${index + 1} refuses`);
      return `proposal ${index + 1}`;
    }),
  );
  const aggregator = mockModel('mock:agg', () => {
    if (options.aggregatorFails) throw apiError(400, 'the aggregator refuses');
    return 'the final answer';
  });
  const run = streamMoA({ layers: 2, proposers, aggregator, maxRetries: 0 }, 'Q', { stream: 'final', onEvent: (event) => events.push(event) });
  await run.result.catch(() => undefined);
  return events;
}

/** A terminal stand-in: what was written, and what stays on screen after the last in-place redraw. */
function screen(): { write(text: string): void; columns: number; isTTY: true; text: () => string; afterLastRedraw: () => string } {
  let text = '';
  return {
    columns: 100,
    isTTY: true,
    write(chunk: string) {
      text += chunk;
    },
    text: () => text,
    afterLastRedraw: () => {
      const redraw = text.lastIndexOf('\x1b[0J');
      return redraw < 0 ? text : text.slice(redraw + '\x1b[0J'.length);
    },
  };
}

describe('the TTY live view', () => {
  it('ends with the aggregator done, not streaming, when the answer is not on the same screen', async () => {
    const output = screen();
    const view = createTtyProgress(output, colors);
    for (const event of await runEvents()) view.onEvent(event);
    view.finish();
    const last = output.afterLastRedraw();
    expect(last).toMatch(/aggregator\n {2}✓ mock:agg/);
    expect(last).not.toMatch(/streaming|running|waiting/);
  });

  it('when the answer streams below it: keeps the finished layers, then prints the aggregator after the answer with its outcome', async () => {
    const output = screen();
    const view = createTtyProgress(output, colors);
    const events = await runEvents();
    const firstDelta = events.findIndex((event) => event.type === 'agent-delta');
    expect(firstDelta).toBeGreaterThan(0);
    for (const event of events.slice(0, firstDelta)) view.onEvent(event);
    view.answerStarts();
    const beforeAnswer = output.text().length;
    const frozen = output.afterLastRedraw();
    expect(frozen).toMatch(/layer 1\/2\n {2}✓ mock:p1 .*\n {2}✓ mock:p2 /);
    expect(frozen).not.toContain('aggregator');
    for (const event of events.slice(firstDelta)) view.onEvent(event);
    view.finish();
    const afterAnswer = output.text().slice(beforeAnswer);
    expect(afterAnswer).not.toContain('\x1b['); // nothing above the answer is touched again
    expect(afterAnswer).toMatch(/^aggregator\n {2}✓ mock:agg .*tok\n$/);
  });

  it('ends with the failure, and layers the run never reached as "not run"', async () => {
    const failedAggregator = screen();
    const view = createTtyProgress(failedAggregator, colors);
    for (const event of await runEvents({ aggregatorFails: true })) view.onEvent(event);
    view.finish();
    expect(failedAggregator.afterLastRedraw()).toMatch(/✗ mock:agg .*the aggregator refuses/);

    const failedProposers = screen();
    const second = createTtyProgress(failedProposers, colors);
    for (const event of await runEvents({ proposersFail: true })) second.onEvent(event);
    second.finish();
    expect(failedProposers.afterLastRedraw()).toMatch(/aggregator {2}not run/);
    expect(failedProposers.afterLastRedraw()).not.toContain('waiting');
  });
});

describe('plain progress lines and the summary', () => {
  it('say "1 proposer" and "2 proposers"', async () => {
    for (const [count, words] of [
      [1, '1 proposer started'],
      [2, '2 proposers started'],
    ] as const) {
      const output = screen();
      const view = createPlainProgress(output, colors);
      const events = await runEvents({ proposers: count });
      for (const event of events) view.onEvent(event);
      expect(output.text()).toContain(`moa: layer 1/2: ${words}\n`);
      expect(output.text()).not.toMatch(/1 proposers/);
    }
  });

  it('counts one token as "1 token"', () => {
    const result = { layers: [], usage: { inputTokens: 1, outputTokens: 0 }, latencyMs: 5, degraded: [] } as unknown as Parameters<typeof summaryLine>[0];
    expect(summaryLine(result, colors)).toContain('· 1 token (1 in, 0 out)');
  });
});
