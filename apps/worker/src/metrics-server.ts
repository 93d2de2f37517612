import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** The worker's Prometheus endpoint: GET /metrics (with the token, when one is set) and /healthz. */
export interface MetricsServer {
  readonly server: Server;
  /** e.g. http://127.0.0.1:9464 (0.0.0.0 / :: shown as 127.0.0.1). */
  readonly url: string;
  close(): Promise<void>;
}

/** Constant-time check of an `Authorization: Bearer …` header against `token`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer[ \t]+(\S+)[ \t]*$/iu.exec(header ?? '')?.[1];
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Listens on `host:port` (HOST and METRICS_PORT; never more interfaces than the console). With
 * `token` (METRICS_TOKEN), /metrics answers 401 without `Authorization: Bearer <token>`; /healthz
 * (for container health checks) says only "ok".
 */
export async function listenMetrics(options: {
  readonly registry: Registry;
  readonly host: string;
  readonly port: number;
  readonly token?: string | undefined;
}): Promise<MetricsServer> {
  const { registry, token } = options;
  const server = createServer(async (request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === '/metrics') {
      if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
        response.writeHead(401, {
          'content-type': 'text/plain',
          'www-authenticate': 'Bearer realm="metrics"',
        });
        response.end('unauthorized');
        return;
      }
      response.writeHead(200, { 'content-type': registry.contentType });
      response.end(await registry.metrics());
      return;
    }
    response.writeHead(path === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' });
    response.end(path === '/healthz' ? 'ok' : 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const shown =
    address === '0.0.0.0' || address === '::'
      ? '127.0.0.1'
      : address.includes(':')
        ? `[${address}]`
        : address;
  return {
    server,
    url: `http://${shown}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
