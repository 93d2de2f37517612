import { and, asc, eq, gte, lte, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { sourceStates, usageDaily } from '../schema.ts';
import type { PollOutcome, SourceState } from '../types.ts';
import { clip, type Executor, isUuid, parseDate, parseInput, utcDay } from './shared.ts';

/** One UTC day of an account's usage. */
export interface UsageDay {
  /** `YYYY-MM-DD` (UTC). */
  readonly day: string;
  readonly postsRead: number;
  readonly requests: number;
  readonly replies: number;
}

/** Cursors, platform feedback and usage of each account's sources. */
export interface SourceRepository {
  get(accountId: string, sourceKey: string): Promise<SourceState | null>;
  list(accountId?: string): Promise<SourceState[]>;
  /**
   * A successful poll: new cursor (a null cursor keeps the old one), rate limit, failures reset, and the
   * posts read and requests added to the day's usage. `notBefore` becomes the rate-limit reset when the
   * platform said no requests remain, else null.
   */
  recordPoll(accountId: string, sourceKey: string, outcome: PollOutcome, now: Date): Promise<SourceState>;
  /** A failed poll: the cursor stays, failures count up, nothing is polled before `notBefore`. */
  recordFailure(
    accountId: string,
    sourceKey: string,
    error: string,
    notBefore: Date | null,
    now: Date,
  ): Promise<SourceState>;
  /** Per-day usage between the UTC days of `from` and `to`, both included; days without usage are left out. */
  usage(accountId: string, from: Date, to: Date): Promise<UsageDay[]>;
}

const keySchema = z.string().min(1).max(500);
const accountIdSchema = z.uuid({ error: 'an account id (uuid)' });

export const pollOutcomeSchema = z.object({
  // Opaque to us; a Bluesky search cursor lists the posts of its late window (up to 10 000 URIs).
  cursor: z.string().max(1_500_000).nullable(),
  rateLimit: z
    .object({
      limit: z.number().int().nonnegative(),
      remaining: z.number().int().nonnegative(),
      resetAt: z.date(),
    })
    .nullable(),
  postsRead: z.number().int().nonnegative(),
  requests: z.number().int().nonnegative(),
  previousCursor: z.string().max(1_500_000).nullable().optional(),
});

type Row = typeof sourceStates.$inferSelect;

export function toSourceState(row: Row): SourceState {
  return {
    accountId: row.accountId,
    sourceKey: row.sourceKey,
    cursor: row.cursor,
    lastPolledAt: row.lastPolledAt,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    rateLimitRemaining: row.rateLimitRemaining,
    rateLimitLimit: row.rateLimitLimit,
    rateLimitResetAt: row.rateLimitResetAt,
    notBefore: row.notBefore,
    consecutiveFailures: row.consecutiveFailures,
  };
}

/** Adds to an account's usage of the UTC day of `now`. */
export async function addUsage(
  ex: Executor,
  accountId: string,
  now: Date,
  add: { postsRead?: number; requests?: number; replies?: number },
): Promise<void> {
  const values = {
    accountId,
    day: utcDay(now),
    postsRead: add.postsRead ?? 0,
    requests: add.requests ?? 0,
    replies: add.replies ?? 0,
  };
  if (values.postsRead === 0 && values.requests === 0 && values.replies === 0) return;
  await ex
    .insert(usageDaily)
    .values(values)
    .onConflictDoUpdate({
      target: [usageDaily.accountId, usageDaily.day],
      set: {
        postsRead: sql`${usageDaily.postsRead} + excluded.posts_read`,
        requests: sql`${usageDaily.requests} + excluded.requests`,
        replies: sql`${usageDaily.replies} + excluded.replies`,
      },
    });
}

/** Validates and applies a successful poll (shared with ingest, which does it in the batch's transaction). */
export async function applyPoll(
  ex: Executor,
  accountIdInput: string,
  sourceKeyInput: string,
  outcomeInput: PollOutcome,
  nowInput: Date,
): Promise<SourceState> {
  const accountId = parseInput(accountIdSchema, accountIdInput, 'poll account id');
  const sourceKey = parseInput(keySchema, sourceKeyInput, 'poll source key');
  const outcome = parseInput(pollOutcomeSchema, outcomeInput, 'poll outcome');
  const now = parseDate(nowInput, 'poll time');
  const rate = outcome.rateLimit;
  const notBefore = rate !== null && rate.remaining === 0 && rate.resetAt > now ? rate.resetAt : null;
  const values = {
    accountId,
    sourceKey,
    cursor: outcome.cursor,
    lastPolledAt: now,
    lastError: null,
    lastErrorAt: null,
    rateLimitRemaining: rate?.remaining ?? null,
    rateLimitLimit: rate?.limit ?? null,
    rateLimitResetAt: rate?.resetAt ?? null,
    notBefore,
    consecutiveFailures: 0,
  };
  const [row] = await ex
    .insert(sourceStates)
    .values(values)
    .onConflictDoUpdate({
      target: [sourceStates.accountId, sourceStates.sourceKey],
      set: {
        ...values,
        // A poll that started from a cursor another poll of the same source has replaced since (two
        // polls at once: a slow one overlapping the next on another worker) keeps the other's cursor.
        // Its posts are stored all the same; a cursor stays the complete record of one poll, whose
        // pending segments (X's `bounds`) are never dropped by another poll's cursor.
        cursor:
          outcome.previousCursor === undefined
            ? sql`coalesce(excluded.cursor, ${sourceStates.cursor})`
            : sql`CASE WHEN ${sourceStates.cursor} IS NOT DISTINCT FROM ${outcome.previousCursor}::text THEN coalesce(excluded.cursor, ${sourceStates.cursor}) ELSE ${sourceStates.cursor} END`,
      },
    })
    .returning();
  await addUsage(ex, accountId, now, { postsRead: outcome.postsRead, requests: outcome.requests });
  return toSourceState(row as Row);
}

export function createSourceRepository(db: Database): SourceRepository {
  return {
    async get(accountId, sourceKey) {
      if (!isUuid(accountId) || typeof sourceKey !== 'string') return null;
      const [row] = await db
        .select()
        .from(sourceStates)
        .where(and(eq(sourceStates.accountId, accountId), eq(sourceStates.sourceKey, sourceKey)));
      return row === undefined ? null : toSourceState(row);
    },

    async list(accountId) {
      if (accountId !== undefined && !isUuid(accountId)) return [];
      const rows = await db
        .select()
        .from(sourceStates)
        .where(accountId === undefined ? undefined : eq(sourceStates.accountId, accountId))
        .orderBy(asc(sourceStates.accountId), asc(sourceStates.sourceKey));
      return rows.map(toSourceState);
    },

    recordPoll(accountId, sourceKey, outcome, now) {
      return db.transaction((tx) => applyPoll(tx, accountId, sourceKey, outcome, now));
    },

    async recordFailure(accountIdInput, sourceKeyInput, error, notBeforeInput, nowInput) {
      const accountId = parseInput(accountIdSchema, accountIdInput, 'poll account id');
      const sourceKey = parseInput(keySchema, sourceKeyInput, 'poll source key');
      const now = parseDate(nowInput, 'failure time');
      const notBefore = notBeforeInput === null ? null : parseDate(notBeforeInput, 'not-before time');
      const lastError = clip(String(error));
      const [row] = await db
        .insert(sourceStates)
        .values({ accountId, sourceKey, lastError, lastErrorAt: now, notBefore, consecutiveFailures: 1 })
        .onConflictDoUpdate({
          target: [sourceStates.accountId, sourceStates.sourceKey],
          set: {
            lastError,
            lastErrorAt: now,
            notBefore,
            consecutiveFailures: sql`${sourceStates.consecutiveFailures} + 1`,
          },
        })
        .returning();
      return toSourceState(row as Row);
    },

    async usage(accountId, fromInput, toInput) {
      const from = parseDate(fromInput, 'usage from');
      const to = parseDate(toInput, 'usage to');
      if (!isUuid(accountId)) return [];
      const rows = await db
        .select()
        .from(usageDaily)
        .where(
          and(
            eq(usageDaily.accountId, accountId),
            gte(usageDaily.day, utcDay(from)),
            lte(usageDaily.day, utcDay(to)),
          ),
        )
        .orderBy(asc(usageDaily.day));
      return rows.map((r) => ({
        day: r.day,
        postsRead: r.postsRead,
        requests: r.requests,
        replies: r.replies,
      }));
    },
  };
}
