// A TCP proxy that drops a connection after `idleMs` without a byte in either direction, as
// reverse proxies and load balancers do (nginx proxy_read_timeout, an ALB's idle timeout).
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface IdleTimeoutProxy {
  /** http://127.0.0.1:PORT, forwarding to the target. */
  url: string;
  /** Connections dropped for being idle. */
  readonly dropped: number;
  close(): Promise<void>;
}

export async function startIdleTimeoutProxy(target: string, idleMs: number): Promise<IdleTimeoutProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let dropped = 0;
  const server = createServer((client) => {
    const upstream = connect({ host: hostname, port: Number(port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    // Socket timeouts reset on every read and write: this fires only after idleMs of silence.
    upstream.setTimeout(idleMs, () => {
      dropped += 1;
      client.destroy();
      upstream.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    get dropped() {
      return dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
