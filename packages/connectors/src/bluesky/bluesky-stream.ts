import type { IdResolver } from '@atproto/identity';
import { type Event, Firehose } from '@atproto/sync';
import type { StreamEvent, StreamOptions } from '../types.ts';

/*
 * The firehose (`com.atproto.sync.subscribeRepos`) as an async iterable of kikimimi stream events,
 * decoded and — unless `verify` is off — checked against each repository's signing key by
 * @atproto/sync's Firehose (which also reconnects with backoff on its own).
 *
 * Resuming: every event carries `cursor` = "<seq>:<n>", the firehose sequence number of its commit and
 * the index of the post operation within it (a commit can create several posts). Given a stored
 * cursor, the subscription restarts at that commit (`cursor=seq-1`, the relay sends seq > cursor) and
 * skips the operations already handed on, so nothing is lost and nothing repeats. Reconnects inside
 * one run resume from the last event queued the same way.
 */

export const POST_COLLECTION = 'app.bsky.feed.post';

export interface StreamPosition {
  readonly seq: number;
  readonly op: number;
}

/** Reads a stream cursor ("<seq>:<n>", or a bare seq meaning the whole commit was handed on). */
export function decodeStreamCursor(cursor: string | null | undefined): StreamPosition | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const m = /^(\d{1,16})(?::(\d{1,6}))?$/u.exec(cursor);
  if (!m) throw new RangeError(`not a Bluesky stream cursor: ${JSON.stringify(cursor.slice(0, 40))}`);
  return { seq: Number(m[1]), op: m[2] === undefined ? Number.MAX_SAFE_INTEGER : Number(m[2]) };
}

export const encodeStreamCursor = (p: StreamPosition): string => `${p.seq}:${p.op}`;

/** True when the event at `p` was handed on already (at or before `last`). */
export const isHandedOn = (p: StreamPosition, last: StreamPosition | null): boolean =>
  last !== null && (p.seq < last.seq || (p.seq === last.seq && p.op <= last.op));

export interface FirehoseStreamOptions {
  /** The relay or PDS, as a ws:// or wss:// URL (e.g. wss://bsky.network). */
  readonly service: string;
  readonly idResolver: IdResolver;
  /** Check each commit's signature and Merkle proofs (default true). */
  readonly verify: boolean;
  /** Turns a decoded commit operation into a stream event (normalising, resolving the author). */
  readonly toEvent: (
    evt: Extract<Event, { event: 'create' | 'update' | 'delete' }>,
  ) => Promise<StreamEvent | null>;
  /** Events held before the firehose is paused (backpressure). */
  readonly highWater?: number;
}

/** Yields posts, edits and deletions from the firehose until `options.signal` aborts. */
export async function* firehoseEvents(
  config: FirehoseStreamOptions,
  options: StreamOptions,
): AsyncGenerator<StreamEvent> {
  const highWater = config.highWater ?? 500;
  const queue: StreamEvent[] = [];
  const signals: { wake: (() => void) | null; drained: (() => void) | null } = { wake: null, drained: null };
  const notify = () => {
    signals.wake?.();
    signals.wake = null;
  };
  const release = () => {
    signals.drained?.();
    signals.drained = null;
  };
  let last = decodeStreamCursor(options.cursor);
  let commitSeq = -1;
  let opIndex = -1;

  const firehose = new Firehose({
    service: config.service,
    idResolver: config.idResolver,
    unauthenticatedCommits: !config.verify,
    filterCollections: [POST_COLLECTION],
    excludeIdentity: true,
    excludeAccount: true,
    excludeSync: true,
    getCursor: () => {
      options.onState?.('connecting');
      return last === null ? undefined : Math.max(0, last.seq - 1);
    },
    handleEvent: async (evt) => {
      if (evt.event !== 'create' && evt.event !== 'update' && evt.event !== 'delete') return;
      if (evt.seq !== commitSeq) {
        commitSeq = evt.seq;
        opIndex = -1;
      }
      opIndex += 1;
      const position = { seq: evt.seq, op: opIndex };
      if (isHandedOn(position, last)) return;
      const event = await config.toEvent(evt);
      last = position;
      if (event === null) return;
      queue.push({ ...event, cursor: encodeStreamCursor(position) });
      notify();
      if (queue.length >= highWater) await new Promise<void>((resolve) => (signals.drained = resolve));
    },
    onError: (error) => {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      options.onState?.('reconnecting', `${error.message}${cause}`);
    },
  });

  const abort = () => {
    void firehose.destroy();
    notify();
    release();
  };
  options.signal.addEventListener('abort', abort, { once: true });
  const running = firehose.start();
  options.onState?.('open');
  try {
    while (!options.signal.aborted) {
      const next = queue.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => (signals.wake = resolve));
        continue;
      }
      if (queue.length < highWater / 2) release();
      yield next;
    }
  } finally {
    options.signal.removeEventListener('abort', abort);
    release();
    await firehose.destroy();
    await running;
    options.onState?.('closed');
  }
}
