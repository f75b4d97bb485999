/**
 * `/mcp` on `moa serve`: the MoA tools (mcp-tools.ts) over MCP's Streamable HTTP transport,
 * stateless (no session: every POST is answered on its own, by a fresh McpServer over the
 * app's shared catalog and registry). The app's browser guard (Host, Origin), API-key auth
 * and JSON-body checks run before this, as on `/v1`. GET and DELETE (for server-initiated
 * streams and sessions, which a stateless server has none of) get 405.
 */
import type { Context } from 'hono';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { createMcpServer } from './mcp-tools.js';
import type { RunDependencies } from './start-run.js';

export async function mcpRequest(context: Context, dependencies: RunDependencies, options: { heartbeatMs: number }): Promise<Response> {
  if (context.req.method !== 'POST') {
    return context.json(
      { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP server is stateless, send JSON-RPC messages with POST.' }, id: null },
      405,
      { Allow: 'POST' },
    );
  }
  const server = createMcpServer(dependencies);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, keepAliveMs: options.heartbeatMs });
  await server.connect(transport);
  // A client that goes away cancels its tool call (the run's upstream calls are aborted).
  context.req.raw.signal.addEventListener('abort', () => void transport.close(), { once: true });
  const response = await transport.handleRequest(context.req.raw);
  // The context's headers (CORS, Connection) on the transport's response.
  const headers = new Headers(response.headers);
  context.res.headers.forEach((value, name) => {
    if (!headers.has(name)) headers.set(name, value);
  });
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
