/**
 * `moa serve`: the OpenAI-compatible MoA server and the live web page.
 * Prints the URL on stderr once listening; SIGTERM/SIGINT refuse new runs,
 * let runs in flight finish (up to --drain-timeout), then exit 0; a second
 * signal exits at once (128 + the signal's number), saying how many runs it dropped.
 * A port in use or a bad --host is one line and exit 2.
 */
import { constants as osConstants } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { loadConfig } from '../node/load-config.js';
import { ConfigError } from '../util/errors.js';
import { ensureDefaultLocalModel } from './prepare-preset.js';
import { isWildcardAddress, parseAllowedHosts } from '../server/allowed-hosts.js';
import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_PORT,
  isLoopbackHost,
  startServer,
  type RunningServer,
  type StartServerOptions,
} from '../server/start-server.js';
import { DEFAULT_LIMITS } from '../server/app.js';
import { choosePresetsForServer } from '../node/preset-catalog.js';
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
  allowedHosts?: string[];
}

function hostList(value: string): string[] {
  const hosts = value
    .split(',')
    .map((host) => host.trim())
    .filter(Boolean);
  if (hosts.length === 0) throw new InvalidArgumentError('--allowed-hosts needs at least one name, e.g. --allowed-hosts moa.example.com');
  try {
    return parseAllowedHosts(hosts, '--allowed-hosts');
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/** startServer, with its listen failures worded for the command line (the flag to change). */
async function listen(options: StartServerOptions): Promise<RunningServer> {
  try {
    return await startServer(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // "port 8787 is in use" → "port 8787 is in use: pick another with --port"
    if (error.path === 'port') throw new ConfigError(`${error.message}: pick another with --port`, { code: error.code, cause: error });
    // "host X is not an address of this machine (…)" → "--host X is not …"
    if (error.path === 'host') throw new ConfigError(`--${error.message}`, { code: error.code, cause: error });
    throw error;
  }
}

function originList(value: string): string[] {
  const origins = value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
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
    .option('--allowed-hosts <names>', 'more names clients may reach the server by (Host header; comma-separated, .example.com for subdomains, * for any)', hostList)
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
      const serverOptions: StartServerOptions = {
        config,
        machinePresets,
        env: io.env,
        host: options.host,
        port: options.port,
        drainTimeoutMs: options.drainTimeout,
        limits: { maxBodyBytes: options.maxBodyBytes, maxMessages: options.maxMessages },
        ...(options.cors ? { corsOrigins: options.cors } : {}),
        ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
      };
      const server = await listen(serverOptions);
      // Handlers first, then the banner: whoever reads the URL may signal right away.
      const stopped = new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) {
            const dropped = server.moa.runs.activeCount();
            io.stderr.write(`moa: ${signal} again: stopping now, dropping ${dropped} run(s) still in flight\n`);
            process.exit(128 + (osConstants.signals[signal] ?? 1));
          }
          stopping = true;
          const active = server.moa.runs.activeCount();
          io.stderr.write(
            `moa: ${signal}: refusing new requests (503; send ${signal} again to stop at once); waiting up to ${options.drainTimeout} ms for ${active} run(s) in flight\n`,
          );
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
      if (isWildcardAddress(options.host) && !options.allowedHosts) {
        banner += colors.dim(
          `moa: clients must reach the server by an IP address or localhost; list any DNS name they use with --allowed-hosts (DNS rebinding protection)\n`,
        );
      }
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
