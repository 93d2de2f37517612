import { AuthFailedError } from '../errors.ts';
import type { MastodonStreamSource, StreamEvent, StreamOptions } from '../types.ts';
import { normalizeStatus } from './mastodon-normalize.ts';
import { camelizeKeys, mastodonStreamFrameSchema } from './mastodon-schemas.ts';

/** How long to wait between connection attempts. */
export interface ReconnectPolicy {
  /** Base delay; attempt n waits about `initialDelayMs × 2ⁿ` (default 1 s). */
  readonly initialDelayMs: number;
  /** Cap on the delay (default 30 s). */
  readonly maxDelayMs: number;
  /** A connection that stayed open this long resets the backoff (default 30 s). */
  readonly healthyAfterMs: number;
}

/** 1 s doubling to 30 s; a connection open for 30 s counts as healthy. */
export const DEFAULT_RECONNECT: ReconnectPolicy = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  healthyAfterMs: 30_000,
};

/** What the stream needs from the connector. */
export interface StreamDependencies {
  /** The streaming server's base URL (`wss://…`), resolved lazily. */
  readonly streamingUrl: () => Promise<string>;
  readonly accessToken: string;
  /** Throws AuthFailedError when the token is refused; asked after a handshake fails. */
  readonly checkCredentials: () => Promise<void>;
  readonly reconnect?: ReconnectPolicy;
  readonly random?: () => number;
}

/** `initialDelay × 2ⁿ`, capped, with "equal jitter": between half and all of it, so clients spread out. */
export function reconnectDelay(
  failures: number,
  policy: ReconnectPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(failures, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The WebSocket URL for a stream source (`/api/v1/streaming?stream=hashtag&tag=…`). */
export function streamUrl(base: string, source: MastodonStreamSource): URL {
  const url = new URL('/api/v1/streaming', base.replace(/^http(s?):/u, 'ws$1:'));
  url.searchParams.set('stream', source.stream);
  if (source.tag !== undefined) url.searchParams.set('tag', source.tag.replace(/^[#＃]/u, ''));
  return url;
}

/**
 * One streaming frame → an event: `update` is a new post, `status.update` an edit (both carry the
 * Status JSON, as a string), `delete` a deletion (the payload is the bare status id). Null for
 * anything else (other events, malformed frames, statuses that do not normalise).
 */
export function eventFromFrame(data: string): StreamEvent | null {
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = mastodonStreamFrameSchema.safeParse(frame);
  if (!parsed.success) return null;
  const { event } = parsed.data;
  let payload = parsed.data.payload;
  if (event === 'delete') {
    // Mastodon sends `status.id.to_s`; be lenient about a number.
    const id = typeof payload === 'number' ? String(payload) : payload;
    return typeof id === 'string' && /^\w+$/u.test(id)
      ? { kind: 'delete', platform: 'mastodon', postId: id }
      : null;
  }
  if (event !== 'update' && event !== 'status.update') return null;
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload);
    } catch {
      return null;
    }
  }
  const result = normalizeStatus(camelizeKeys(payload));
  if (!result.ok) return null;
  return { kind: event === 'update' ? 'post' : 'edit', post: result.post };
}

interface Connection {
  /** True once open; false if it closed (or was aborted) before opening. */
  readonly opened: Promise<boolean>;
  /** The next text frame, or null when the socket is closed. */
  next(): Promise<string | null>;
  readonly reason: () => string;
  close(): void;
}

function connect(url: URL, token: string, signal: AbortSignal): Connection {
  let socket: WebSocket;
  try {
    // Mastodon takes the token as the subprotocol, which keeps it out of URLs and logs.
    socket = new WebSocket(url, [token]);
  } catch {
    // A token with characters a subprotocol may not contain: fall back to the query parameter.
    const withToken = new URL(url);
    withToken.searchParams.set('access_token', token);
    socket = new WebSocket(withToken);
  }
  socket.binaryType = 'arraybuffer';
  const frames: string[] = [];
  let closed = false;
  let reason = 'connection closed';
  let wake: (() => void) | undefined;
  let settleOpen: (opened: boolean) => void = () => {};
  const opened = new Promise<boolean>((resolve) => {
    settleOpen = resolve;
  });
  const finish = (why: string) => {
    if (closed) return;
    closed = true;
    reason = why;
    settleOpen(false);
    wake?.();
  };
  const onAbort = () => {
    finish('aborted');
    socket.close(1000);
  };
  socket.addEventListener('open', () => settleOpen(true));
  socket.addEventListener('message', (event) => {
    frames.push(
      typeof event.data === 'string' ? event.data : new TextDecoder().decode(event.data as ArrayBuffer),
    );
    wake?.();
  });
  socket.addEventListener('error', () => {
    reason = 'connection failed';
  });
  socket.addEventListener('close', (event) => {
    signal.removeEventListener('abort', onAbort);
    finish(`${reason === 'connection failed' ? reason : 'connection closed'} (code ${event.code})`);
  });
  signal.addEventListener('abort', onAbort, { once: true });
  return {
    opened,
    async next() {
      for (;;) {
        const frame = frames.shift();
        if (frame !== undefined) return frame;
        if (closed) return null;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
    reason: () => reason,
    close() {
      signal.removeEventListener('abort', onAbort);
      if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN)
        socket.close(1000);
      finish(reason);
    },
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The connection loop: connects, hands each event to `emit`, reconnects, until the signal aborts. */
async function run(
  source: MastodonStreamSource,
  signal: AbortSignal,
  report: (state: State, detail?: string) => void,
  emit: (event: StreamEvent) => void,
  dependencies: StreamDependencies,
): Promise<void> {
  const policy = dependencies.reconnect ?? DEFAULT_RECONNECT;
  let current: Connection | undefined;
  try {
    if (signal.aborted) return;
    report('connecting');
    const url = streamUrl(await dependencies.streamingUrl(), source);
    let failures = 0;
    while (!signal.aborted) {
      current = connect(url, dependencies.accessToken, signal);
      if (await current.opened) {
        const openedAt = Date.now();
        report('open');
        for (let frame = await current.next(); frame !== null; frame = await current.next()) {
          const event = eventFromFrame(frame);
          if (event !== null) emit(event);
        }
        failures = Date.now() - openedAt >= policy.healthyAfterMs ? 0 : failures + 1;
      } else {
        failures++;
        if (!signal.aborted) {
          try {
            await dependencies.checkCredentials();
          } catch (error) {
            if (error instanceof AuthFailedError) throw error;
            // Anything else (the server is down) is what the backoff is for.
          }
        }
      }
      current.close();
      if (signal.aborted) break;
      const delay = reconnectDelay(failures - 1, policy, dependencies.random);
      report('reconnecting', `${current.reason()}; next attempt in ${delay} ms`);
      await sleep(delay, signal);
    }
  } finally {
    current?.close();
    report('closed');
  }
}

/**
 * Posts, edits and deletions from one Mastodon stream, for as long as the signal allows: reconnects after drops with
 * exponential backoff and jitter, skips frames it cannot read, and ends (reporting `closed`) when the
 * signal aborts or the iterator is returned. A handshake that fails makes it check the token over
 * REST: a refused token ends the stream with AuthFailedError instead of retrying forever.
 *
 * The connection opens as soon as iteration starts, not at the first `next()`: a caller that waits
 * for `open` before reading must not wait forever. Events that arrive before they are read queue up
 * (the socket would buffer them anyway).
 */
export function streamEvents(
  source: MastodonStreamSource,
  options: StreamOptions,
  dependencies: StreamDependencies,
): AsyncIterable<StreamEvent> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
      const stop = new AbortController();
      const signal = AbortSignal.any([options.signal, stop.signal]);
      const queue: StreamEvent[] = [];
      let ended = false;
      let failure: { error: unknown } | undefined;
      let waiter: (() => void) | undefined;
      const wake = () => {
        const resolve = waiter;
        waiter = undefined;
        resolve?.();
      };
      const report = (state: State, detail?: string) => {
        try {
          options.onState?.(state, detail);
        } catch {
          // A faulty listener must not take the stream down.
        }
      };
      const emit = (event: StreamEvent) => {
        queue.push(event);
        wake();
      };
      const done = run(source, signal, report, emit, dependencies)
        .catch((error: unknown) => {
          failure = { error };
        })
        .finally(() => {
          ended = true;
          wake();
        });
      return {
        async next(): Promise<IteratorResult<StreamEvent>> {
          for (;;) {
            const event = queue.shift();
            if (event !== undefined) return { value: event, done: false };
            if (ended) {
              if (failure !== undefined) {
                const { error } = failure;
                failure = undefined;
                throw error;
              }
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => {
              waiter = resolve;
            });
          }
        },
        async return(): Promise<IteratorResult<StreamEvent>> {
          stop.abort();
          await done;
          queue.length = 0;
          return { value: undefined, done: true };
        },
      };
    },
  };
}
