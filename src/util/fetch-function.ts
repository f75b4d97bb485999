/** A `fetch` to use instead of the global one (injected by tests, the node:http transport, proxies). No `node:` imports. */
export type FetchFunction = typeof globalThis.fetch;
