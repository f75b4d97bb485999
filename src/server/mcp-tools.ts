/**
 * MoA as MCP tools, for any MCP client (Claude Desktop, Claude Code, Cursor, an agent framework):
 *
 * - `moa_ask` { question, preset? }: one MoA run; the answer as text, and as structured content
 *   the answer with every agent's status, usage and cost (from the config's `prices`), the
 *   run's usage, cost, warnings and what was degraded (agents that failed, were cut or fell back). While it runs, a client that sent a progress token gets a
 *   `notifications/progress` each time an agent finishes. A failed run is a tool error
 *   (`isError`) with the providers' messages, so the calling model can read what went wrong.
 * - `moa_presets`: the presets this server offers, which can run and why not.
 *
 * One McpServer per connection (stdio) or per request (Streamable HTTP, stateless); both share
 * the server's preset catalog and model registry, so provider limits hold across them.
 */
import { readFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { callCost, roundUsd } from '../core/cost.js';
import type { MoAEvent } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';
import { toHttpError, runFailureError } from './openai-errors.js';
import { presetAvailability } from '../node/preset-catalog.js';
import { settledResult } from './run-outcome.js';
import { startRun, type RunDependencies } from './start-run.js';

const packageVersion = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const usageShape = z.object({ input_tokens: z.number(), output_tokens: z.number() });

const askOutput = {
  answer: z.string(),
  preset: z.string(),
  run_id: z.string(),
  latency_ms: z.number(),
  usage: usageShape,
  /** USD, when every model that ran has a price in the config; null otherwise. */
  cost_usd: z.number().nullable(),
  agents: z.array(
    z.object({
      layer: z.number(),
      agent: z.number(),
      aggregator: z.boolean(),
      model: z.string(),
      status: z.string(),
      latency_ms: z.number().nullable(),
      usage: usageShape,
      cost_usd: z.number().nullable(),
      error: z.string().optional(),
    }),
  ),
  warnings: z.array(z.string()),
  /** Where the answer was made with less than planned; empty when every planned agent contributed. */
  degraded: z.array(z.object({ layer: z.number(), agent: z.number(), model: z.string(), reason: z.string(), message: z.string() })),
};

const presetsOutput = {
  presets: z.array(
    z.object({
      name: z.string(),
      default: z.boolean(),
      available: z.boolean(),
      reason: z.string().optional(),
      layers: z.array(z.array(z.string())),
    }),
  ),
};

type AskOutput = { [K in keyof typeof askOutput]: z.infer<(typeof askOutput)[K]> };

function askSummary(result: MoAResult, prices: RunDependencies['catalog']['prices']): AskOutput {
  let total = 0;
  let priced = true;
  const agents = result.layers.flatMap((layer) =>
    layer.agents.map((agent, index) => {
      const cost = agent.cached ? 0 : callCost(prices, agent.model, agent.usage);
      if (cost === undefined) priced = false;
      else total += cost;
      return {
        layer: layer.index,
        agent: index,
        aggregator: layer.aggregator,
        model: agent.model,
        status: agent.status,
        latency_ms: agent.latencyMs ?? null,
        usage: { input_tokens: agent.usage.inputTokens, output_tokens: agent.usage.outputTokens },
        cost_usd: cost === undefined ? null : roundUsd(cost),
        ...(agent.error ? { error: agent.error.message } : {}),
      };
    }),
  );
  return {
    answer: result.text,
    preset: result.preset ?? '',
    run_id: result.runId,
    latency_ms: result.latencyMs,
    usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens },
    cost_usd: priced ? roundUsd(total) : null,
    agents,
    warnings: result.warnings.map((warning) => warning.message),
    degraded: result.degraded.map((entry) => ({
      layer: entry.layer,
      agent: entry.agent,
      model: result.layers[entry.layer]?.agents[entry.agent]?.model ?? '',
      reason: entry.reason,
      message: entry.message,
    })),
  };
}

/** "layer 1/2: fake:proposer-a done" for a progress notification. */
function progressMessage(event: MoAEvent & { type: 'agent-end' | 'agent-error' }, layers: number): string {
  const what = event.type === 'agent-end' ? 'done' : event.cut ? 'cut' : `failed (${event.error.message})`;
  return `layer ${event.layer + 1}/${layers}: ${event.model} ${what}`;
}

export function createMcpServer(dependencies: RunDependencies): McpServer {
  const { catalog } = dependencies;
  const server = new McpServer({ name: 'moa', version: packageVersion });

  server.registerTool(
    'moa_ask',
    {
      title: 'Ask a Mixture-of-Agents',
      description:
        'Ask several LLMs the question at once and get one answer synthesized from theirs (Mixture-of-Agents). ' +
        'Slower and costlier than one model; better for hard questions, reviews and second opinions. ' +
        `Presets: ${catalog.names.join(', ')} (moa_presets describes them).`,
      inputSchema: {
        question: z.string().min(1).describe('The question or task, with all the context the agents need.'),
        preset: z
          .string()
          .min(1)
          .optional()
          .describe(`Which preset runs it (default: ${catalog.defaultName ?? 'none: name one'}).`),
      },
      outputSchema: askOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ question, preset }, extra) => {
      const name = preset ?? catalog.defaultName;
      if (name === undefined) {
        return { isError: true, content: [{ type: 'text', text: `No default preset on this server: name one of ${catalog.names.join(', ')}.` }] };
      }
      if (!catalog.names.includes(name)) {
        return {
          isError: true,
          content: [{ type: 'text', text: `No preset "${name}" on this server: the presets are ${catalog.names.join(', ')} (moa_presets describes them).` }],
        };
      }
      const progressToken = extra._meta?.progressToken;
      let finished = 0;
      let total = 0;
      let layers = 0;
      const onEvent = (event: MoAEvent): void => {
        if (event.type === 'run-start') {
          layers = event.layers.length;
          total = event.layers.reduce((sum, layer) => sum + layer.agents.length, 0);
        }
        if (progressToken === undefined || (event.type !== 'agent-end' && event.type !== 'agent-error')) return;
        finished += 1;
        void extra
          .sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: finished, total, message: progressMessage(event, layers) },
          })
          .catch(() => undefined);
      };
      let result: MoAResult;
      try {
        const { run } = startRun(dependencies, { model: name, messages: [{ role: 'user', content: question }], details: false }, 'none', extra.signal, onEvent);
        result = await settledResult(run.result);
      } catch (error) {
        return { isError: true, content: [{ type: 'text', text: toHttpError(error).toBody().error.message }] };
      }
      if (result.status !== 'done') {
        const failure = runFailureError(result, false);
        return { isError: true, content: [{ type: 'text', text: `The MoA run failed: ${failure.toBody().error.message}` }] };
      }
      const summary = askSummary(result, catalog.prices);
      return { content: [{ type: 'text', text: result.text }], structuredContent: summary };
    },
  );

  server.registerTool(
    'moa_presets',
    {
      title: 'List the Mixture-of-Agents presets',
      description: 'The presets moa_ask can run: their layers and models, which is the default, and why a preset cannot run here.',
      outputSchema: presetsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => {
      const presets = catalog.names.map((name) => {
        let layers: string[][] = [];
        let reason: string | undefined;
        try {
          layers = catalog.resolve(name).layers.map((layer) => layer.agents.map((agent) => agent.label));
          const availability = presetAvailability(catalog, dependencies.registry, name);
          if (!availability.runnable) reason = availability.reason;
        } catch (error) {
          reason = error instanceof Error ? error.message : String(error);
        }
        return { name, default: name === catalog.defaultName, available: reason === undefined, ...(reason !== undefined ? { reason } : {}), layers };
      });
      const lines = presets.map(
        (entry) =>
          `${entry.name}${entry.default ? ' (default)' : ''}: ${entry.layers.map((layer) => layer.join(' + ')).join(' → ')}${entry.available ? '' : ` — unavailable: ${entry.reason}`}`,
      );
      return { content: [{ type: 'text', text: lines.join('\n') }], structuredContent: { presets } };
    },
  );

  return server;
}
