/** `moa-engine/server`: the OpenAI-, Responses- and Messages-compatible HTTP server with its web page, and MCP over stdio. */
export { createApp, DEFAULT_LIMITS, type AppOptions, type MoAApp, type ServerLimits } from './app.js';
export { startServer, type RunningServer, type StartServerOptions } from './start-server.js';
export { serveMcpOverStdio, type StdioMcpOptions, type StdioMcpServer } from './mcp-stdio.js';
