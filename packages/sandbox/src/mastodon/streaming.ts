import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

/** What a stream needs to know about a status to decide who receives it. */
export interface StreamedStatus {
  /** The Status entity as the REST API serves it. */
  readonly json: unknown;
  /** Normalised (NFKC, lower-case) tag names. */
  readonly tags: ReadonlySet<string>;
  readonly local: boolean;
}

/** The streaming side of the stand-in: Mastodon's WebSocket API on the same HTTP server. */
export interface StreamHub {
  /**
   * Sends an event about a status to every subscription it belongs to, the way Mastodon's streaming
   * server frames it: `update` and `status.update` carry the Status JSON as a string, `delete` the
   * status id as a plain string.
   */
  broadcast(status: StreamedStatus, event?: 'update' | 'status.update' | 'delete'): void;
  /**
   * Sends a `notification` event (the Notification JSON as a string) to every `user` and
   * `user:notification` subscription: every valid token belongs to the one account.
   */
  notify(notification: unknown): void;
  /** Sends a frame as is to every open socket (to test how clients cope with garbage). */
  sendRaw(data: string): void;
  /** Cuts every socket without a close handshake, as a network drop or a server restart would. */
  dropAll(): void;
  /** Open sockets. */
  readonly connections: number;
  close(): Promise<void>;
}

/** The server to attach to and how to check a token. */
export interface StreamHubOptions {
  readonly server: Server;
  readonly isValidToken: (token: string) => boolean;
}

interface Subscription {
  readonly stream: string;
  /** The tag as the client sent it; Mastodon echoes it back in `stream`. */
  readonly tag: string | null;
}

const STREAMS = new Set([
  'public',
  'public:local',
  'public:remote',
  'hashtag',
  'hashtag:local',
  'user',
  'user:notification',
]);

/** Tag normalisation for matching: Mastodon compares hashtags case-insensitively. */
export const normalizeTagName = (tag: string): string =>
  tag
    .replace(/^[#＃]/u, '')
    .normalize('NFKC')
    .toLowerCase();

function matches(subscription: Subscription, status: StreamedStatus): boolean {
  switch (subscription.stream) {
    case 'public':
      return true;
    case 'public:local':
      return status.local;
    case 'public:remote':
      return !status.local;
    case 'hashtag':
      return subscription.tag !== null && status.tags.has(normalizeTagName(subscription.tag));
    case 'hashtag:local':
      return status.local && subscription.tag !== null && status.tags.has(normalizeTagName(subscription.tag));
    default:
      return false;
  }
}

/** The token the way Mastodon's streaming server looks for it: header, query, then subprotocol. */
function tokenOf(request: IncomingMessage, url: URL): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length);
  const query = url.searchParams.get('access_token');
  if (query !== null) return query;
  const protocol = request.headers['sec-websocket-protocol'];
  return protocol?.split(',')[0]?.trim() || null;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Adds Mastodon's WebSocket streaming API (`/api/v1/streaming`) to an HTTP server. */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  const wss = new WebSocketServer({ noServer: true });
  const subscriptions = new Map<WebSocket, Subscription[]>();

  const subscribe = (socket: WebSocket, stream: string | null, tag: string | null): string | null => {
    if (stream === null || !STREAMS.has(stream)) return 'Unknown stream type';
    if (stream.startsWith('hashtag') && (tag === null || tag === '')) return 'No tag for stream provided';
    const list = subscriptions.get(socket) ?? [];
    if (!list.some((s) => s.stream === stream && s.tag === tag)) list.push({ stream, tag });
    subscriptions.set(socket, list);
    return null;
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api/v1/streaming' && url.pathname !== '/api/v1/streaming/') {
      refuse(socket, 404, 'Not Found');
      return;
    }
    const token = tokenOf(request, url);
    if (token === null || !options.isValidToken(token)) {
      refuse(socket, 401, 'Unauthorized');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      subscriptions.set(ws, []);
      // A stream named in the query is subscribed before the client sees the socket open.
      const stream = url.searchParams.get('stream');
      if (stream !== null) {
        const error = subscribe(ws, stream, url.searchParams.get('tag'));
        if (error !== null) ws.send(JSON.stringify({ error, status: 400 }));
      }
      ws.on('message', (data) => {
        let message: unknown;
        try {
          message = JSON.parse(String(data));
        } catch {
          ws.send(JSON.stringify({ error: 'Invalid JSON', status: 400 }));
          return;
        }
        if (typeof message !== 'object' || message === null) return;
        const { type, stream: name, tag } = message as Record<string, unknown>;
        const tagName = typeof tag === 'string' ? tag : null;
        if (type === 'subscribe') {
          const error = subscribe(ws, typeof name === 'string' ? name : null, tagName);
          if (error !== null) ws.send(JSON.stringify({ error, status: 400 }));
        } else if (type === 'unsubscribe') {
          const list = subscriptions.get(ws) ?? [];
          subscriptions.set(
            ws,
            list.filter((s) => !(s.stream === name && s.tag === tagName)),
          );
        }
      });
      ws.on('close', () => subscriptions.delete(ws));
      ws.on('error', () => subscriptions.delete(ws));
    });
  };
  options.server.on('upgrade', onUpgrade);

  return {
    broadcast(status, event = 'update') {
      const payload =
        event === 'delete' ? String((status.json as { id: string }).id) : JSON.stringify(status.json);
      for (const [socket, list] of subscriptions) {
        if (socket.readyState !== socket.OPEN) continue;
        for (const subscription of list) {
          if (!matches(subscription, status)) continue;
          const stream =
            subscription.tag === null ? [subscription.stream] : [subscription.stream, subscription.tag];
          socket.send(JSON.stringify({ stream, event, payload }));
        }
      }
    },
    notify(notification) {
      const payload = JSON.stringify(notification);
      for (const [socket, list] of subscriptions) {
        if (socket.readyState !== socket.OPEN) continue;
        for (const subscription of list) {
          if (subscription.stream !== 'user' && subscription.stream !== 'user:notification') continue;
          socket.send(JSON.stringify({ stream: [subscription.stream], event: 'notification', payload }));
        }
      }
    },
    sendRaw(data) {
      for (const socket of subscriptions.keys()) if (socket.readyState === socket.OPEN) socket.send(data);
    },
    dropAll() {
      for (const socket of subscriptions.keys()) socket.terminate();
      subscriptions.clear();
    },
    get connections() {
      return subscriptions.size;
    },
    close() {
      options.server.off('upgrade', onUpgrade);
      for (const socket of subscriptions.keys()) socket.terminate();
      subscriptions.clear();
      return new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
