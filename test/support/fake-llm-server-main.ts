// Standalone fake LLM server for benchmarks: `npx tsx test/support/fake-llm-server-main.ts`.
// Config comes from env FAKE_LLM_CONFIG (JSON: { port?, behaviors?, defaultBehavior? }).
// Prints exactly one line `FAKE_LLM_URL=<url>` on stdout once listening; exits cleanly on SIGTERM/SIGINT.
import { startFakeLLMServer, type FakeBehavior } from './fake-llm-server.js';

interface FakeServerConfig {
  port?: number;
  behaviors?: Record<string, FakeBehavior>;
  defaultBehavior?: FakeBehavior;
}

function readConfig(): FakeServerConfig {
  const raw = process.env['FAKE_LLM_CONFIG'];
  if (raw === undefined || raw.trim() === '') return {};
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('FAKE_LLM_CONFIG must be a JSON object');
  return parsed;
}

let config: FakeServerConfig;
try {
  config = readConfig();
} catch (error) {
  process.stderr.write(`fake-llm-server: invalid FAKE_LLM_CONFIG: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

const server = await startFakeLLMServer({ port: config.port ?? 0, host: '127.0.0.1', behaviors: config.behaviors, defaultBehavior: config.defaultBehavior });
process.stdout.write(`FAKE_LLM_URL=${server.url}\n`);

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`fake-llm-server: close failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
