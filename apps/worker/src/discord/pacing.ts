/**
 * Pacing of review messages within a channel's rate limit (ADR 012).
 *
 * Discord takes a handful of messages per window in each channel and thread (5 per 5 s today; it says
 * how many in the X-RateLimit-* headers of every answer). Sent as they come, reviews that arrive
 * faster than that spend the window's messages in its first moments, one review each, and every review
 * after them waits for the next window — seconds, while the channel sits idle. Once a channel has been
 * found spent, its next windows' last messages are spread over the window instead: a review arriving
 * in between waits for the next due moment (under a second with Discord's limits) and goes with the
 * others that came meanwhile, several to a message. A channel that has not been spent lately sends as
 * the reviews come, except that its last {@link RESERVED_SHARE} of a window is kept spread, so that a
 * cluster of reviews does not leave the rest of the window with nothing.
 */

/** What the last answer for a channel's messages said about its bucket. */
interface Bucket {
  /** Messages the window allows. */
  limit: number;
  /** Messages left in the window. */
  remaining: number;
  /** When the window ends (ms since the epoch). */
  resetAt: number;
  /** The longest window seen in this channel (its length: the first answer of a window tells it). */
  windowMs: number;
  /** When a review last found the channel spent (ms since the epoch). */
  spentAt: number;
  /** No message has gone in this window yet. */
  fresh: boolean;
}

/** The share of a window's messages kept spread over it even in a channel that has not been spent. */
export const RESERVED_SHARE = 0.4;
/** For how many windows after a channel was found spent all of its windows are spread. */
export const SPREAD_WINDOWS = 2;

/** The X-RateLimit-* headers of one answer, as Discord sends them. */
export interface RateLimitHeaders {
  get(name: string): string | null;
}

/** What the pacing says of a channel now. */
export interface Pace {
  /** How long a review should wait before it takes one of the channel's messages: 0, now. */
  readonly waitMs: number;
  /** A message went to the channel in its current window (reviews are coming: worth gathering). */
  readonly inUse: boolean;
}

/** Per channel, what Discord said about its rate limit, and how long a review should wait. */
export interface ChannelPacing {
  /** Reads an answer's X-RateLimit-* headers for a channel's messages (others are ignored). */
  observe(channelId: string, headers: RateLimitHeaders, now: number): void;
  /**
   * A review found the channel spent (Discord's limit, or the wait this pacing asked for at zero), or
   * its reviews are known to come faster than Discord takes them (a surge's new thread): its windows
   * are spread from now — for a channel not heard of yet, from the first answer on.
   */
  spent(channelId: string, now: number): void;
  /** The channel's pace now. */
  pace(channelId: string, now: number): Pace;
  /**
   * Takes one of the channel's messages if the pace allows it now (0), counting it as on its way
   * until Discord's answer says how many are left — so that reviews sending at the same moment do
   * not all see the same messages left; else the wait.
   */
  take(channelId: string, now: number): number;
}

export function createChannelPacing(): ChannelPacing {
  const buckets = new Map<string, Bucket>();
  /** Channels said to be spent before any answer for them (`spent`): when, until their first answer. */
  const spentEarly = new Map<string, number>();
  /** The channel's bucket as of now (a window that is over starts again with the next message). */
  const current = (channelId: string, now: number) => {
    const b = buckets.get(channelId);
    if (b !== undefined && b.resetAt <= now) {
      b.remaining = b.limit;
      b.resetAt = now + b.windowMs;
      b.fresh = true;
    }
    return b;
  };
  const waitOf = (b: Bucket, now: number) => {
    if (b.remaining <= 0) {
      b.spentAt = now;
      return b.resetAt - now;
    }
    const spreading = now - b.spentAt < SPREAD_WINDOWS * b.windowMs;
    const reserved = spreading ? b.limit - 1 : Math.ceil(b.limit * RESERVED_SHARE);
    if (b.remaining > reserved) return 0;
    // The moment from which the messages left, one every windowMs / limit, last until the reset.
    const due = b.resetAt - (b.remaining * b.windowMs) / b.limit;
    return Math.max(0, Math.ceil(due - now));
  };
  return {
    observe(channelId, headers, now) {
      const read = (name: string) => {
        const value = headers.get(name);
        return value === null || value.trim() === '' ? Number.NaN : Number(value);
      };
      const limit = read('x-ratelimit-limit');
      const remaining = read('x-ratelimit-remaining');
      const resetAfter = read('x-ratelimit-reset-after');
      // A route without a bucket (or a malformed answer) tells nothing.
      if (!(limit > 0) || !Number.isFinite(remaining) || !(resetAfter >= 0)) return;
      const known = buckets.get(channelId);
      buckets.set(channelId, {
        limit,
        remaining: Math.max(0, remaining),
        resetAt: now + resetAfter * 1000,
        windowMs: Math.max(known?.windowMs ?? 0, resetAfter * 1000),
        spentAt: known?.spentAt ?? spentEarly.get(channelId) ?? Number.NEGATIVE_INFINITY,
        fresh: false,
      });
      spentEarly.delete(channelId);
    },
    spent(channelId, now) {
      const known = buckets.get(channelId);
      if (known !== undefined) known.spentAt = now;
      else spentEarly.set(channelId, now);
    },
    pace(channelId, now) {
      const b = current(channelId, now);
      // Never heard of: Discord tells its limit with the first answer.
      if (b === undefined) return { waitMs: 0, inUse: false };
      return { waitMs: waitOf(b, now), inUse: !b.fresh };
    },
    take(channelId, now) {
      const b = current(channelId, now);
      if (b === undefined) return 0;
      const wait = waitOf(b, now);
      if (wait === 0) {
        b.remaining--;
        b.fresh = false;
      }
      return wait;
    },
  };
}
