import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fault, FaultInjector } from './faults.ts';

/** A parsed request as route handlers see it. */
export interface SandboxRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Parsed JSON or form body (empty object when none). */
  readonly body: Record<string, unknown>;
  readonly params: Record<string, string>;
}

export interface SandboxResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export type RouteHandler = (request: SandboxRequest) => SandboxResponse | Promise<SandboxResponse>;

export interface Route {
  readonly method: string;
  /** Path with `:name` segments, e.g. `/api/v1/timelines/tag/:tag`. */
  readonly path: string;
  readonly handler: RouteHandler;
}

export interface RunningServer {
  readonly server: Server;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

function compile(path: string): { regexp: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        names.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
    })
    .join('/');
  return { regexp: new RegExp(`^${source}/?$`, 'u'), names };
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const type = request.headers['content-type'] ?? '';
  if (type.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return { __unparseable: text };
  }
}

export interface ServerOptions {
  readonly routes: readonly Route[];
  readonly faults: FaultInjector;
  /** How this platform says "rate limited" (status 429 plus its own headers). */
  readonly rateLimited: (resetInSeconds: number) => SandboxResponse;
  /** Every request, after faults; for logs and counters. */
  readonly onRequest?: (request: SandboxRequest) => void;
  /** Port to listen on (default: an ephemeral one). */
  readonly port?: number;
}

function send(response: ServerResponse, result: SandboxResponse): void {
  const headers: Record<string, string> = { ...result.headers };
  if (result.body === undefined) {
    response.writeHead(result.status, headers);
    response.end();
    return;
  }
  const text = typeof result.body === 'string' ? result.body : JSON.stringify(result.body);
  headers['content-type'] ??= 'application/json; charset=utf-8';
  response.writeHead(result.status, headers);
  response.end(text);
}

async function applyFault(fault: Fault, response: ServerResponse, options: ServerOptions): Promise<boolean> {
  switch (fault.kind) {
    case 'slow':
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      return false; // then answer normally
    case 'drop':
      response.socket?.destroy();
      return true;
    case 'malformed':
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      response.end('{"data":[{"id":"1","text":');
      return true;
    case 'status':
      send(response, {
        status: fault.status,
        body: fault.body ?? { error: `sandbox fault ${fault.status}` },
        ...(fault.headers === undefined ? {} : { headers: { ...fault.headers } }),
      });
      return true;
    case 'rate-limit':
      send(response, options.rateLimited(fault.resetInSeconds));
      return true;
  }
}

/** Starts an HTTP stand-in on 127.0.0.1 with the given routes and fault injector. */
export async function startHttpServer(options: ServerOptions): Promise<RunningServer> {
  const routes = options.routes.map((route) => ({ ...route, ...compile(route.path) }));
  const server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const method = request.method ?? 'GET';
      const fault = options.faults.take(method, url.pathname);
      if (fault !== undefined && (await applyFault(fault, response, options))) return;
      for (const route of routes) {
        if (route.method !== method) continue;
        const match = route.regexp.exec(url.pathname);
        if (match === null) continue;
        const params = Object.fromEntries(
          route.names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
        );
        const sandboxRequest: SandboxRequest = {
          method,
          path: url.pathname,
          query: url.searchParams,
          headers: request.headers,
          body: await readBody(request),
          params,
        };
        options.onRequest?.(sandboxRequest);
        send(response, await route.handler(sandboxRequest));
        return;
      }
      send(response, { status: 404, body: { error: `no stand-in route for ${method} ${url.pathname}` } });
    } catch (error) {
      send(response, {
        status: 500,
        body: { error: error instanceof Error ? error.message : String(error) },
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
