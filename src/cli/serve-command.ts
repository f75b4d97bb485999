/**
 * `moa serve`: the OpenAI-compatible MoA server and the live web page.
 * Prints the URL on stderr once listening; SIGTERM/SIGINT stop accepting,
 * let runs in flight finish (up to --drain-timeout), then exit 0.
 */
import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../core/load-config.js';
import { ensureDefaultLocalModel } from './prepare-preset.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_HOST, DEFAULT_PORT, isLoopbackHost, startServer } from '../server/start-server.js';
import { DEFAULT_LIMITS } from '../server/app.js';
import { choosePresetsForServer } from '../server/preset-catalog.js';
import type { CommandRegistration } from './command-registration.js';
import { EXIT_OK } from './exit-codes.js';
import { colorsFor } from './terminal.js';

interface ServeOptions {
  config?: string;
  host: string;
  port: number;
  drainTimeout: number;
  maxBodyBytes: number;
  maxMessages: number;
  yes?: boolean;
  cors?: string[];
}

function originList(value: string): string[] {
  const origins = value.split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new InvalidArgumentError(`--cors takes origins like https://chat.example.com (scheme and host, no path) or *, comma-separated (got "${origin}")`);
    }
  }
  if (origins.length === 0) throw new InvalidArgumentError('--cors needs at least one origin, e.g. --cors http://localhost:3000');
  return origins;
}

function whole(name: string, min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
    }
    return number;
  };
}

export function registerServeCommand({ program, io, setExitCode }: CommandRegistration): void {
  program
    .command('serve')
    .description('serve the presets as an OpenAI-compatible API (POST /v1/chat/completions) and a live web page')
    .option('-c, --config <file>', 'config file (default: ./moa.config.yaml, or $MOA_CONFIG)')
    .option('--host <host>', 'interface to listen on', DEFAULT_HOST)
    .option('--port <port>', 'port to listen on (0 picks a free one)', whole('--port', 0, 65_535), DEFAULT_PORT)
    .option('--drain-timeout <ms>', 'on SIGTERM/SIGINT, how long runs in flight may finish', whole('--drain-timeout', 0, 3_600_000), DEFAULT_DRAIN_TIMEOUT_MS)
    .option('--max-body-bytes <n>', 'largest request body accepted', whole('--max-body-bytes', 1, 1_073_741_824), DEFAULT_LIMITS.maxBodyBytes)
    .option('--max-messages <n>', 'most messages in one request', whole('--max-messages', 1, 1_000_000), DEFAULT_LIMITS.maxMessages)
    .option('--cors <origins>', 'let browser pages from these origins call /v1 (comma-separated, or *)', originList)
    .option('-y, --yes', 'download the default local model without asking when it is needed (also MOA_YES=1)')
    .action(async (options: ServeOptions) => {
      const colors = colorsFor(io.stderr, io.env);
      const config = loadConfig({ ...(options.config !== undefined ? { configPath: options.config } : {}), env: io.env });
      // The machine default (no defaultPreset), chosen once: say which, and fetch the local model before listening.
      const machinePresets = await choosePresetsForServer(config, io.env);
      if (machinePresets.detected) {
        io.stderr.write(colors.dim(`moa: ${machinePresets.detected.notice}\n`));
        if (machinePresets.detected.source === 'local') await ensureDefaultLocalModel(options, io);
      }
      const server = await startServer({
        config,
        machinePresets,
        env: io.env,
        host: options.host,
        port: options.port,
        drainTimeoutMs: options.drainTimeout,
        limits: { maxBodyBytes: options.maxBodyBytes, maxMessages: options.maxMessages },
        ...(options.cors ? { corsOrigins: options.cors } : {}),
      });
      // Handlers first, then the banner: whoever reads the URL may signal right away.
      const stopped = new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) {
            io.stderr.write(`moa: ${signal} again: stopping now\n`);
            process.exit(EXIT_OK);
          }
          stopping = true;
          const active = server.moa.runs.activeCount();
          io.stderr.write(`moa: ${signal}: no longer accepting requests; waiting up to ${options.drainTimeout} ms for ${active} run(s) in flight\n`);
          server.close().then(
            ({ drained }) => {
              io.stderr.write(drained ? 'moa: every run finished; bye\n' : 'moa: drain timeout: cancelled the runs still in flight; bye\n');
              resolve();
            },
            (error: unknown) => {
              io.stderr.write(`moa: error while closing: ${String(error)}\n`);
              resolve();
            },
          );
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      const { catalog } = server.moa;
      // One write, so whoever reads stderr gets the whole banner at once (tests find the URL in it).
      let banner =
        `moa: serving ${catalog.names.length} preset(s) on ${server.url} (OpenAI base URL ${server.url}/v1)\n` +
        `moa: default model: ${catalog.defaultName ?? '(none: name a preset as "model")'}; ` +
        `auth: ${server.moa.authRequired ? 'bearer key required (MOA_API_KEY)' : 'off'}; live view: ${server.url}/\n`;
      if (!isLoopbackHost(options.host) && !server.moa.authRequired) {
        banner += colors.yellow(
          `moa: warning: listening on ${options.host}, reachable from other machines, without MOA_API_KEY: anyone who can connect can spend your provider credits. Set MOA_API_KEY to require a bearer key.\n`,
        );
      }
      io.stderr.write(banner);
      await stopped;
      setExitCode(EXIT_OK);
    });
}
