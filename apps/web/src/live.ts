import {
  MATCHES_CHANNEL,
  type MatchesChanged,
  matchesChangedMessage,
  parseMatchesChanged,
} from '@kikimimi/desk';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The live inbox's feed: matches that appeared or changed, announced on Redis (`<prefix>:matches-changed`)
 * by the worker and by every console, fanned out here to the server-sent event streams of this process.
 */
export interface LiveMatches {
  /** Calls `listener` for each announcement, and with 'closed' when the feed ends; returns the unsubscribe. */
  subscribe(listener: (change: MatchesChanged | 'closed') => void): () => void;
  /** Announces a change to every console (this one included). Never throws. */
  publish(kind: MatchesChanged['kind'], ids: readonly string[]): Promise<void>;
  /** Ends every stream (the server is stopping). */
  close(): Promise<void>;
}

/** Fans changes out to the listeners of this process. */
function createFanOut() {
  const listeners = new Set<(change: MatchesChanged | 'closed') => void>();
  return {
    listeners,
    subscribe(listener: (change: MatchesChanged | 'closed') => void) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    emit(change: MatchesChanged | 'closed') {
      for (const listener of [...listeners]) listener(change);
    },
  };
}

/** One process without Redis (tests): what is published is what the listeners get. */
export function createLocalLiveMatches(): LiveMatches {
  const fan = createFanOut();
  return {
    subscribe: fan.subscribe,
    async publish(kind, ids) {
      if (ids.length > 0) fan.emit({ kind, ids: [...ids] });
    },
    async close() {
      fan.emit('closed');
      fan.listeners.clear();
    },
  };
}

/**
 * Over Redis pub/sub: `subscriber` is a connection of its own (a subscribed connection takes no other
 * command), `publisher` any other. Malformed messages are dropped.
 */
export async function createRedisLiveMatches(
  subscriber: Redis,
  publisher: Redis,
  prefix: string,
  log: Logger,
): Promise<LiveMatches> {
  const channel = `${prefix}:${MATCHES_CHANNEL}`;
  const fan = createFanOut();
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    const change = parseMatchesChanged(text);
    if (change === null) log.warn({ channel }, 'a malformed matches-changed message was dropped');
    else fan.emit(change);
  });
  await subscriber.subscribe(channel);
  return {
    subscribe: fan.subscribe,
    async publish(kind, ids) {
      if (ids.length === 0) return;
      try {
        await publisher.publish(channel, matchesChangedMessage(kind, ids));
      } catch (error) {
        log.debug({ error: String(error) }, 'matches-changed not published');
      }
    },
    async close() {
      fan.emit('closed');
      fan.listeners.clear();
      await subscriber.quit().catch(() => {});
    },
  };
}
