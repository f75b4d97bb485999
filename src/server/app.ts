/**
 * The `moa serve` application: a Hono app (a fetch-style handler) with the
 * OpenAI-compatible API, the Anthropic Messages API, MCP, the native run stream
 * for the web page, and the page.
 *
 *   GET  /healthz                 public
 *   GET  /v1/models               presets this server can run (?all=true: every one, with why not)
 *   POST /v1/chat/completions     one MoA run, OpenAI Chat Completions shapes (stream or not)
 *   POST /v1/responses            one MoA run, OpenAI Responses shapes; GET/DELETE /v1/responses/:id
 *   POST /v1/messages             one MoA run, Anthropic Messages shapes
 *   POST /mcp                     the MoA tools over MCP (Streamable HTTP, stateless)
 *   POST /api/runs                one MoA run as the native event stream (SSE)
 *   GET  /api/runs/:id            a recent run's events (NDJSON, the trace format)
 *   GET  /, page assets           the live web page (webRoutes), public
 *
 * Every request first passes the browser guard (Host, Origin, CORS: see
 * browser-guard.ts); API request bodies must be JSON (json-body.ts).
 * One model registry per app: provider queues are shared by every request and
 * released by close(). Every error leaves through toHttpError as an
 * OpenAI-shaped body (Anthropic-shaped on /v1/messages), with
 * `x-should-retry: false` when sending it again cannot help.
 */
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { bodyLimit } from 'hono/body-limit';
import { loadConfig, type LoadedConfig } from '../node/load-config.js';
import type { FetchFunction } from '../models/create-provider.js';
import { createNodeHttpFetch } from '../models/node-http-fetch.js';
import { createModelRegistry, type ModelRegistry } from '../models/registry.js';
import { AbortedError } from '../util/errors.js';
import { createHostPolicy, DEFAULT_HOST, parseAllowedHosts } from './allowed-hosts.js';
import { anthropicErrorBody, isAnthropicPath } from './anthropic-errors.js';
import type { FaceOptions } from './answer-stream.js';
import { apiKeyAuth } from './auth.js';
import { browserGuard } from './browser-guard.js';
import { DEFAULT_HEARTBEAT_MS } from './event-stream.js';
import { requireJsonBody } from './json-body.js';
import { chatCompletion } from './chat-completions.js';
import { liveRun, runTrace } from './live-runs.js';
import { mcpRequest } from './mcp-route.js';
import { createMessage } from './messages-api.js';
import { parseMessagesRequest } from './messages-schema.js';
import { listModels, presetModel } from './models-route.js';
import { HttpError, toHttpError } from './openai-errors.js';
import { parseChatRequest, type ChatRequest } from './openai-schema.js';
import { createResponseStore, DEFAULT_STORED_RESPONSES } from './response-store.js';
import { createResponse, deleteResponse, getResponse } from './responses-api.js';
import { parseResponsesRequest } from './responses-schema.js';
import { createPresetCatalog, type MachinePresets, type PresetCatalog, type ServerPresetConfig } from '../node/preset-catalog.js';
import { createRunStore, DEFAULT_RECENT_RUNS, type RunStore } from './run-store.js';
import type { RunDependencies, ServerRunOptions } from './start-run.js';
import { webRoutes } from './web-routes.js';
import '../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

export interface ServerLimits {
  /** Largest request body accepted (bytes); larger gets 413. */
  maxBodyBytes: number;
  /** Most messages in one conversation; more gets 400 naming `messages`. */
  maxMessages: number;
  /** Recent runs kept for GET /api/runs/:id. */
  recentRuns: number;
  /** Responses kept for `previous_response_id` and GET /v1/responses/:id. */
  storedResponses: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 1024 * 1024,
  maxMessages: 1000,
  recentRuns: DEFAULT_RECENT_RUNS,
  storedResponses: DEFAULT_STORED_RESPONSES,
};

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
   * or `*` for any. Default: none (same-origin only, e.g. the live page). Requests from any
   * other origin get 403.
   */
  corsOrigins?: readonly string[];
  /**
   * The address the server listens on (startServer's own `host`; default 127.0.0.1). Requests
   * must name it in `Host` (any loopback name when it is loopback; any IP address or loopback
   * name when it is 0.0.0.0 or ::), else 403: the defence against DNS rebinding.
   */
  host?: string;
  /** More names requests may use in `Host`: `moa.example.com`, `.example.com` (with subdomains), or `*` (no check). */
  allowedHosts?: readonly string[];
  /**
   * How long a streamed reply may stay quiet before it gets a keep-alive comment (ms, default
   * 15 000; 0: never). One is sent as soon as the headers are, so idle timeouts of clients and
   * proxies do not drop a request while the proposers work.
   */
  heartbeatMs?: number;
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

/** Ask HTTP/1.1 clients not to reuse the connection (once draining: the listener closes soon). */
const CLOSE_CONNECTION = { Connection: 'close' };

/**
 * The error's OpenAI-shaped body (Anthropic's on /v1/messages), with the headers middleware put on
 * the context (CORS, Connection). `x-should-retry: false` when a retry cannot fix it, so the
 * official SDKs do not send a whole MoA run again (they retry 408/409/429/5xx by default).
 */
function errorResponse(error: unknown, context: Context): Response {
  const failure = toHttpError(error);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (failure.status === 401) headers['WWW-Authenticate'] = 'Bearer';
  if (!failure.retryable) headers['x-should-retry'] = 'false';
  const body = isAnthropicPath(context.req.path) ? anthropicErrorBody(failure) : failure.toBody();
  return context.newResponse(JSON.stringify(body), failure.status as ContentfulStatusCode, headers);
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
  const hosts = createHostPolicy(options.host ?? DEFAULT_HOST, parseAllowedHosts(options.allowedHosts ?? []));
  let shuttingDown = false;
  let closed: Promise<void> | undefined;

  const dependencies: RunDependencies = { catalog, registry, store: runs, runOptions: options.runOptions ?? {} };
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const faceOptions: FaceOptions = { ...dependencies, shuttingDown: () => shuttingDown, now, heartbeatMs };
  const responses = createResponseStore(limits.storedResponses);

  const app = new Hono();
  app.onError((error, context) => errorResponse(error, context));
  app.notFound((context) => errorResponse(new HttpError(404, `No route for ${context.req.method} ${context.req.path}`, { code: 'not_found' }), context));

  // First, for every route: Host and Origin checks, CORS headers and preflights (before auth: a preflight carries no key).
  app.use('*', browserGuard({ hosts, corsOrigins: options.corsOrigins ?? [] }));

  app.get('/healthz', (context) =>
    shuttingDown
      ? context.json({ status: 'draining', active_runs: runs.activeCount() }, 503, CLOSE_CONNECTION)
      : context.json({ status: 'ok', active_runs: runs.activeCount() }),
  );

  for (const prefix of ['/v1/*', '/api/*', '/mcp']) {
    app.use(prefix, async (context, next) => {
      if (shuttingDown) {
        context.header('Connection', 'close');
        throw new HttpError(503, 'The server is shutting down; retry the request elsewhere', { code: 'server_shutting_down' });
      }
      await next();
    });
    if (apiKey) app.use(prefix, apiKeyAuth(apiKey));
    app.use(prefix, requireJsonBody());
  }

  const limitBody = bodyLimit({
    maxSize: limits.maxBodyBytes,
    onError: (context) =>
      errorResponse(
        new HttpError(413, `The request body is larger than this server's limit of ${limits.maxBodyBytes} bytes`, {
          code: 'request_too_large',
        }),
        context,
      ),
  });
  const details = (context: Context): { details: string | undefined } => ({ details: context.req.header('x-moa-details') });
  const readRequest = async (context: Context): Promise<ChatRequest> => parseChatRequest(await context.req.text(), limits, details(context));

  app.get('/v1/models', (context) => context.json(listModels(catalog, registry, now(), { all: /^(1|true)$/i.test(context.req.query('all') ?? '') })));
  app.get('/v1/models/:id', (context) => {
    const id = context.req.param('id');
    if (!catalog.names.includes(id)) {
      throw new HttpError(404, `The model "${id}" does not exist (GET /v1/models lists the presets)`, { code: 'model_not_found', param: 'model' });
    }
    return context.json(presetModel(catalog, registry, id, now()));
  });
  app.post('/v1/chat/completions', limitBody, async (context) => chatCompletion(context, await readRequest(context), faceOptions));
  app.post('/v1/responses', limitBody, async (context) =>
    createResponse(context, parseResponsesRequest(await context.req.text(), limits, details(context)), { ...faceOptions, responses }),
  );
  app.get('/v1/responses/:id', (context) => getResponse(context, responses));
  app.delete('/v1/responses/:id', (context) => deleteResponse(context, responses));
  app.post('/v1/messages', limitBody, async (context) => createMessage(context, parseMessagesRequest(await context.req.text(), limits, details(context)), faceOptions));
  app.all('/mcp', limitBody, (context) => mcpRequest(context, dependencies, { heartbeatMs }));
  app.post('/api/runs', limitBody, async (context) => liveRun(context, await readRequest(context), dependencies, { heartbeatMs }));
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
