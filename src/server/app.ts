/**
 * The `moa serve` application: a Hono app (a fetch-style handler) with the
 * OpenAI-compatible API, the native run stream for the web page, and the page.
 *
 *   GET  /healthz                 public
 *   GET  /v1/models               presets as models, the default first
 *   POST /v1/chat/completions     one MoA run, OpenAI shapes (stream or not)
 *   POST /api/runs                one MoA run as the native event stream (SSE)
 *   GET  /api/runs/:id            a recent run's events (NDJSON, the trace format)
 *   GET  /, page assets           the live web page (webRoutes), public
 *
 * One model registry per app: provider queues are shared by every request and
 * released by close(). Every error leaves through toHttpError as an
 * OpenAI-shaped body.
 */
import { cors } from 'hono/cors';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { loadConfig, type LoadedConfig } from '../core/load-config.js';
import type { FetchFunction } from '../models/create-provider.js';
import { createNodeHttpFetch } from '../models/node-http-fetch.js';
import { createModelRegistry, type ModelRegistry } from '../models/registry.js';
import { AbortedError } from '../util/errors.js';
import { bearerAuth } from './auth.js';
import { chatCompletion } from './chat-completions.js';
import { liveRun, runTrace } from './live-runs.js';
import { listModels } from './models-route.js';
import { HttpError, toHttpError } from './openai-errors.js';
import { parseChatRequest, type ChatRequest } from './openai-schema.js';
import { createPresetCatalog, type MachinePresets, type PresetCatalog, type ServerPresetConfig } from './preset-catalog.js';
import { createRunStore, DEFAULT_RECENT_RUNS, type RunStore } from './run-store.js';
import type { RunDependencies, ServerRunOptions } from './start-run.js';
import { webRoutes } from './web-routes.js';

export interface ServerLimits {
  /** Largest request body accepted (bytes); larger gets 413. */
  maxBodyBytes: number;
  /** Most messages in one conversation; more gets 400 naming `messages`. */
  maxMessages: number;
  /** Recent runs kept for GET /api/runs/:id. */
  recentRuns: number;
}

export const DEFAULT_LIMITS: ServerLimits = { maxBodyBytes: 1024 * 1024, maxMessages: 1000, recentRuns: DEFAULT_RECENT_RUNS };

export interface AppOptions {
  /** A loaded config (moa.config.yaml merged over the built-ins) or presets given directly; default loadConfig({ env }). */
  config?: LoadedConfig | ServerPresetConfig;
  /**
   * The default preset and `self-moa` as chosen for this machine (choosePresetsForServer);
   * startServer fills it in for a loaded config. Without it only the config's defaultPreset is the default.
   */
  machinePresets?: MachinePresets;
  /** Where provider keys and MOA_API_KEY come from; default process.env. */
  env?: Record<string, string | undefined>;
  /** A registry to use instead of building one (the app then does not close it). */
  registry?: ModelRegistry;
  fetch?: FetchFunction;
  /** The bearer key clients must send; default env.MOA_API_KEY. An empty string or null turns auth off. */
  apiKey?: string | null;
  limits?: Partial<ServerLimits>;
  /** Settings for every run (e.g. shorter retry delays in tests). */
  runOptions?: ServerRunOptions;
  /** Seconds since the epoch, for `created` fields. */
  now?: () => number;
  /**
   * Origins whose browser pages may call `/v1/*` (chat UIs served elsewhere): exact origins,
   * or `*` for any. Default: none (same-origin only, e.g. the live page).
   */
  corsOrigins?: readonly string[];
}

export interface MoAApp {
  app: Hono;
  catalog: PresetCatalog;
  registry: ModelRegistry;
  runs: RunStore;
  limits: ServerLimits;
  /** True when requests must send a bearer key. */
  authRequired: boolean;
  /** Refuse new runs from now on (503), e.g. on SIGTERM; runs in flight continue. */
  beginShutdown(): void;
  /** Resolves true once every run has finished, false when `timeoutMs` passed first (the runs keep going). */
  drain(timeoutMs: number): Promise<boolean>;
  /** Refuse new runs, abort the ones in flight, release the registry (local models unload). */
  close(): Promise<void>;
}

function errorResponse(error: unknown): Response {
  const failure = toHttpError(error);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (failure.status === 401) headers['WWW-Authenticate'] = 'Bearer';
  return new Response(JSON.stringify(failure.toBody()), { status: failure.status, headers });
}

export function createApp(options: AppOptions = {}): MoAApp {
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env });
  const catalog = createPresetCatalog(config, options.machinePresets);
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const ownsRegistry = options.registry === undefined;
  // node:http keep-alive instead of the built-in fetch (undici): about a third of the CPU per upstream call
  // (see models/node-http-fetch.ts); the app owns it and closes its sockets on close().
  const ownFetch = ownsRegistry && !options.fetch ? createNodeHttpFetch() : undefined;
  const fetch = options.fetch ?? ownFetch;
  const registry = options.registry ?? createModelRegistry({ providers: catalog.providers, env, ...(fetch ? { fetch } : {}) });
  const runs = createRunStore(limits.recentRuns);
  const apiKey = options.apiKey === undefined ? env.MOA_API_KEY : options.apiKey;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  let shuttingDown = false;
  let closed: Promise<void> | undefined;

  const dependencies: RunDependencies = { catalog, registry, store: runs, runOptions: options.runOptions ?? {} };
  const completionOptions = { ...dependencies, shuttingDown: () => shuttingDown, now };

  const app = new Hono();
  app.onError((error) => errorResponse(error));
  app.notFound((context) =>
    errorResponse(new HttpError(404, `No route for ${context.req.method} ${context.req.path}`, { code: 'not_found' })),
  );

  app.get('/healthz', (context) =>
    context.json({ status: shuttingDown ? 'draining' : 'ok', active_runs: runs.activeCount() }, shuttingDown ? 503 : 200),
  );

  if (options.corsOrigins && options.corsOrigins.length > 0) {
    // Before auth: a browser's preflight carries no key. Only /v1: the run API serves the live page, same origin.
    const origins = [...options.corsOrigins];
    app.use(
      '/v1/*',
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'X-MoA-Details'],
        exposeHeaders: ['X-MoA-Run-Id'],
        maxAge: 600,
      }),
    );
  }

  for (const prefix of ['/v1/*', '/api/*']) {
    app.use(prefix, async (_context, next) => {
      if (shuttingDown) throw new HttpError(503, 'The server is shutting down; retry the request elsewhere', { code: 'server_shutting_down' });
      await next();
    });
    if (apiKey) app.use(prefix, bearerAuth(apiKey));
  }

  const limitBody = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: () =>
      errorResponse(
        new HttpError(413, `The request body is larger than this server's limit of ${limits.maxBodyBytes} bytes`, {
          code: 'request_too_large',
        }),
      ),
  });
  const readRequest = async (context: Context): Promise<ChatRequest> =>
    parseChatRequest(await context.req.text(), limits, { details: context.req.header('x-moa-details') });

  app.get('/v1/models', (context) => context.json(listModels(catalog, now())));
  app.get('/v1/models/:id', (context) => {
    const id = context.req.param('id');
    const model = listModels(catalog, now()).data.find((entry) => entry.id === id);
    if (!model) throw new HttpError(404, `The model "${id}" does not exist (GET /v1/models lists the presets)`, { code: 'model_not_found', param: 'model' });
    return context.json(model);
  });
  app.post('/v1/chat/completions', limitBody, async (context) => chatCompletion(context, await readRequest(context), completionOptions));
  app.post('/api/runs', limitBody, async (context) => liveRun(context, await readRequest(context), dependencies));
  app.get('/api/runs/:id', (context) => runTrace(context, runs));

  app.route('/', webRoutes());

  return {
    app,
    catalog,
    registry,
    runs,
    limits,
    authRequired: Boolean(apiKey),
    beginShutdown() {
      shuttingDown = true;
    },
    drain(timeoutMs) {
      shuttingDown = true;
      return runs.whenIdle(timeoutMs);
    },
    close() {
      closed ??= (async () => {
        shuttingDown = true;
        runs.abortAll(new AbortedError('The server is shutting down'));
        await runs.whenIdle(5_000);
        if (ownsRegistry) await registry.close();
        ownFetch?.close();
      })();
      return closed;
    },
  };
}
