/**
 * `npm run demo`: MoA end to end with no API key. Starts the project's fake
 * OpenAI-compatible server (simulated models with different speeds, one that
 * fails) on 127.0.0.1 and runs the real `moa ask` CLI against it, so you can
 * see the layers work. The answers are placeholder text, not a real model's.
 * `npm run demo -- --serve` runs `moa serve` over the same models instead:
 * open the printed URL to watch every layer in the web page.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeLLMServer } from '../test/support/fake-llm-server.js';

const server = await startFakeLLMServer({
  defaultBehavior: { delayMs: 400, tokens: 40 },
  behaviors: {
    'quick-model': { delayMs: 300, text: '(simulated) A quick first draft of an answer.' },
    'careful-model': { delayMs: 900, text: '(simulated) A slower, more careful draft with more detail.' },
    'flaky-model': {
      failures: [{ status: 503, message: 'simulated overload' }],
      delayMs: 500,
      text: '(simulated) A draft that arrived after one retry.',
    },
    'broken-model': { alwaysFail: { status: 500, message: 'simulated outage' } },
    aggregator: {
      delayMs: 500,
      tokenDelayMs: 40,
      text:
        '(simulated) The final answer, streamed token by token: the aggregator read every surviving ' +
        'draft of the last layer as numbered references and wrote one answer from them. The failing ' +
        'model was left out with a warning, the flaky one was retried, and the layers ran one after ' +
        'another while the agents inside each layer ran at the same time.',
    },
  },
});
const folder = mkdtempSync(join(tmpdir(), 'moa-demo-'));
const configPath = join(folder, 'moa.config.yaml');
writeFileSync(
  configPath,
  `providers:
  sim: { type: openai-compatible, baseURL: ${server.url} }
presets:
  demo:
    description: simulated models on a local fake server
    layers: 3
    proposers: [sim:quick-model, sim:careful-model, sim:flaky-model, sim:broken-model]
    aggregator: sim:aggregator
    maxRetries: 1
defaultPreset: demo
`,
);
const serve = process.argv.includes('--serve');
const prompt =
  process.argv
    .slice(2)
    .filter((argument) => argument !== '--serve')
    .join(' ') || 'What makes a Mixture-of-Agents answer better than one model?';
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
process.stderr.write(`demo: simulated models at ${server.url} (config ${configPath})\n\n`);

if (serve) {
  // `npm run demo -- --serve`: the OpenAI-compatible server and the live web page over the simulated models.
  const port = process.env.PORT ?? '8787';
  const child = spawn(process.execPath, [cli, 'serve', '--config', configPath, '--port', port], { stdio: 'inherit' });
  process.stderr.write(`demo: open http://127.0.0.1:${port}/ and ask; Ctrl-C stops\n`);
  const stop = (): void => void child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const code: number = await new Promise((resolve) => child.on('exit', (exitCode) => resolve(exitCode ?? 1)));
  await server.close();
  process.exit(code);
}
const child = spawn(process.execPath, [cli, 'ask', '--config', configPath, '--trace', join(folder, 'trace.jsonl'), prompt], {
  stdio: 'inherit',
});
const code: number = await new Promise((resolve) => child.on('exit', (exitCode) => resolve(exitCode ?? 1)));
process.stderr.write(`\ndemo: replay this run with: node dist/cli/main.js replay ${join(folder, 'trace.jsonl')}\n`);
await server.close();
process.exit(code);
