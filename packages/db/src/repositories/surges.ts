import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { NotFoundError } from '../errors.ts';
import {
  matches,
  posts,
  replies,
  reviewMessages,
  surgeAnnouncements,
  surgeEscalations,
  surgeReplySkips,
  surges,
} from '../schema.ts';
import type { Actor, ReplyState } from '../types.ts';
import { clip, type Executor, isUuid, parseDate, parseInput, type Tx } from './shared.ts';

/** A surge as the detector summarises it (packages/rules SurgeSummary), times in ms since epoch. */
export interface SurgeSummaryInput {
  readonly id: string;
  readonly watchId: string;
  readonly status: 'open' | 'closed';
  readonly detectedAt: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly count: number;
  readonly intents: Readonly<Record<string, number | undefined>>;
  readonly platforms: Readonly<Record<string, number | undefined>>;
  readonly examples: readonly { readonly id: string; readonly text: string }[];
  readonly perMinute: readonly { readonly minute: number; readonly count: number }[];
  readonly closedAt?: number | undefined;
  readonly closedBy?: 'quiet' | 'reviewer' | undefined;
}

export type SurgeHandling = 'announced' | 'dismissed' | 'escalated' | 'replied' | 'closed';

export interface SurgeRecord {
  readonly id: string;
  readonly watchId: string;
  readonly status: 'open' | 'closed';
  readonly detectedAt: Date;
  readonly firstAt: Date;
  readonly lastAt: Date;
  readonly count: number;
  readonly intents: Readonly<Record<string, number>>;
  readonly platforms: Readonly<Record<string, number>>;
  readonly examples: readonly { readonly id: string; readonly text: string }[];
  readonly perMinute: readonly { readonly minute: number; readonly count: number }[];
  readonly handling: readonly SurgeHandling[];
  readonly closedAt: Date | null;
  readonly closedBy: 'quiet' | 'reviewer' | null;
  readonly channelId: string | null;
  readonly messageId: string | null;
}

export interface AnnouncementRecord {
  readonly id: string;
  readonly surgeId: string;
  readonly accountId: string;
  readonly platform: string;
  readonly text: string;
  readonly idempotencyKey: string;
  readonly state: 'pending' | 'sent' | 'failed';
  readonly platformPostId: string | null;
  readonly url: string | null;
  readonly error: string | null;
  readonly createdBy: Actor;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
}

/** A surge's member with what a reply to the members did with it (the console's visible queue). */
export interface SurgeMember {
  readonly id: string;
  readonly status: string;
  readonly platform: string;
  readonly text: string;
  readonly url: string;
  readonly authorId: string;
  readonly authorHandle: string;
  readonly createdAt: Date;
  /** Its reply (to the matched post), from the surge or on its own; null: none. */
  readonly reply: {
    readonly state: ReplyState;
    readonly dueAt: Date | null;
    readonly sentAt: Date | null;
    readonly url: string | null;
    readonly manualUrl: string | null;
    readonly error: string | null;
  } | null;
  /** Why the latest reply to the members left it out; null: it was not left out. */
  readonly skip: {
    readonly reason: string;
    readonly params: Readonly<Record<string, string | number>>;
    readonly at: Date;
  } | null;
}

/** Where the replies to a surge's members stand (the counts its Discord message shows). */
export interface SurgeReplyProgress {
  /** Members nobody decided on yet, not answered and not left out. */
  readonly waiting: number;
  /** Waiting for their time (paced) or being sent. */
  readonly queued: number;
  /** Sent by the API or posted by hand. */
  readonly sent: number;
  /** Failed, or waiting for a reviewer to post them by hand. */
  readonly failed: number;
  /** Left out (with a reason) and not answered since. */
  readonly skipped: number;
}

/** A surge's escalation to one target. */
export interface SurgeEscalationRecord {
  readonly target: string;
  readonly createdBy: Actor;
  readonly createdAt: Date;
}

/** A stored match as the surge detector reads it when it is rebuilt. */
export interface SurgeHistoryRow {
  readonly id: string;
  /** The post's time, ms since epoch. */
  readonly at: number;
  readonly watchId: string;
  readonly intent: string;
  readonly text: string;
  readonly platform: string;
  readonly surgeId: string | null;
  /** Its review held for a surge until then (ms since epoch; `holdBack`), or null. */
  readonly heldUntil: number | null;
}

/**
 * How a surge's members stand, by their review status: `waiting` (new: nobody decided yet), `replied`
 * (a reply decided, sent or to be posted by hand), `dismissed`, `escalated`, `deleted` (the author
 * deleted the post). `total` is the members recorded. New outcomes add a key.
 */
export interface SurgeMemberCounts {
  readonly total: number;
  readonly waiting: number;
  readonly replied: number;
  readonly dismissed: number;
  readonly escalated: number;
  readonly deleted: number;
}

/** An announcement of a surge on one account. */
export interface SurgeAnnouncementMark {
  readonly platform: string;
  readonly state: 'pending' | 'sent' | 'failed';
  readonly url: string | null;
}

/** What was done about a surge (an object, so that further decisions add their facts beside these). */
export interface SurgeHandled {
  readonly members: SurgeMemberCounts;
  /** One per account it was announced on, oldest first (by platform when made together). */
  readonly announcements: readonly SurgeAnnouncementMark[];
}

/** A surge of a period for the dashboard and the digest: when, how big, where, how it was handled. */
export interface SurgePeriodSummary {
  readonly id: string;
  readonly watchId: string;
  readonly status: 'open' | 'closed';
  readonly detectedAt: Date;
  /** Its first and latest member's post time. */
  readonly firstAt: Date;
  readonly lastAt: Date;
  readonly closedAt: Date | null;
  readonly closedBy: 'quiet' | 'reviewer' | null;
  /** Its size: members as the detector last counted them. */
  readonly count: number;
  readonly intents: Readonly<Record<string, number>>;
  readonly platforms: Readonly<Record<string, number>>;
  /** The decisions on the whole surge, in order (announced, dismissed, escalated, replied, closed). */
  readonly handling: readonly SurgeHandling[];
  readonly handled: SurgeHandled;
  /** Its first representative post. */
  readonly example: string | null;
}

export interface SurgeRepository {
  /**
   * Records a surge as the detector now sees it (created on first sight) and makes `memberIds` its
   * members (matches already in a surge stay where they are). Returns the members that joined now and
   * already had a review message of their own (to be edited to say so).
   */
  record(summary: SurgeSummaryInput, memberIds: readonly string[]): Promise<{ joinedWithMessage: string[] }>;
  get(id: string): Promise<SurgeRecord | null>;
  /** Newest first. */
  list(options?: { readonly status?: 'open' | 'closed'; readonly limit?: number }): Promise<SurgeRecord[]>;
  /** Members, oldest first: their review status, their reply and why a reply to the members left them out. */
  members(id: string, limit?: number): Promise<SurgeMember[]>;
  /** Where the replies to the surge's members stand. */
  replyProgress(id: string): Promise<SurgeReplyProgress>;
  /** The surge's escalations, oldest first. */
  escalations(id: string): Promise<SurgeEscalationRecord[]>;
  /** The size and state of the given surges (the badges of an inbox page's members), in one query. */
  sizes(ids: readonly string[]): Promise<Map<string, { count: number; status: 'open' | 'closed' }>>;
  /** The surge each match belongs to (null: none), for the given ids. */
  surgeOf(matchIds: readonly string[]): Promise<Map<string, string | null>>;
  /** Claims the surge's one Discord message (the first claim wins); its channel and message id. */
  claimMessage(
    id: string,
    channelId: string,
    nonce: string,
  ): Promise<{ channelId: string; messageId: string | null }>;
  setMessageId(id: string, messageId: string): Promise<void>;
  /**
   * Unsuppressed matches since `since` (by post time), oldest first: what the detector is rebuilt from;
   * with `ids`, only those (what it judges next).
   */
  history(since: Date, ids?: readonly string[]): Promise<SurgeHistoryRow[]>;
  /** Unsuppressed matches outside surges per watch, intent and hour since `since` (the detector's baseline). */
  hourlyCounts(since: Date): Promise<{ watchId: string; intent: string; hourStart: Date; count: number }[]>;
  /** The matches wait for the detector's verdict (the sweeper leaves them to it). */
  markPending(matchIds: readonly string[]): Promise<void>;
  /** The detector judged them. */
  markJudged(matchIds: readonly string[]): Promise<void>;
  /**
   * Their review messages wait until the given times (held for a surge: one forming, a flood, or their
   * intent flooded after they were handed on): only matches not in a surge; the later time wins.
   * Returns the ids that will wait.
   */
  holdBack(entries: readonly { readonly id: string; readonly until: Date }[]): Promise<string[]>;
  /**
   * Most likely the flood's, though not held for the surge (judged while one looked to be forming
   * around them, with `holdSeconds` 0): their reviews go after the others waiting in their channel
   * (`matches.surge_likely`; reviews.formGroup). Only matches not in a surge.
   */
  markLikely(matchIds: readonly string[]): Promise<void>;
  /**
   * Until when the match's review message waits, or waited (a time past: it was held for a surge, and
   * released or its hold ended); null: it was never held.
   */
  heldUntil(matchId: string): Promise<Date | null>;
  /**
   * Their review messages need not wait any longer (the surge they waited for has said no): the hold
   * ends at `at` (kept, not cleared: the notifier reviews them in the surge's thread).
   */
  releaseHold(matchIds: readonly string[], at: Date): Promise<void>;
  /**
   * Whether a Discord message id is a surge's message (a thread started from a message has the
   * message's id: whether a channel is a surge's thread).
   */
  isSurgeMessage(messageId: string): Promise<boolean>;
  /** Matches still waiting for the detector since before `olderThan` (their surge job was lost?). */
  pending(olderThan: Date, limit: number): Promise<string[]>;
  announcements(surgeId: string): Promise<AnnouncementRecord[]>;
  getAnnouncement(id: string): Promise<AnnouncementRecord | null>;
  markAnnouncementSent(
    id: string,
    result: { platformPostId: string; url: string | null },
    at: Date,
  ): Promise<void>;
  markAnnouncementFailed(id: string, error: string): Promise<void>;
  /**
   * Surges with members posted in [from, to) (first member before `to`, latest at or after `from`),
   * newest first (by detection), at most `limit` (1–1000, default 50): size, where, and how they were
   * handled, members and announcements counted in the same statement (dashboard, digest).
   */
  inPeriod(from: Date, to: Date, limit?: number): Promise<SurgePeriodSummary[]>;
}

const surgeIdSchema = z.string().min(1).max(200);

type SurgeRow = typeof surges.$inferSelect;
export const toSurge = (row: SurgeRow): SurgeRecord => ({
  id: row.id,
  watchId: row.watchId,
  status: row.status as SurgeRecord['status'],
  detectedAt: row.detectedAt,
  firstAt: row.firstAt,
  lastAt: row.lastAt,
  count: row.count,
  intents: row.intents,
  platforms: row.platforms,
  examples: row.examples,
  perMinute: row.perMinute,
  handling: row.handling as SurgeHandling[],
  closedAt: row.closedAt,
  closedBy: (row.closedBy as SurgeRecord['closedBy']) ?? null,
  channelId: row.channelId,
  messageId: row.messageId,
});

type AnnouncementRow = typeof surgeAnnouncements.$inferSelect;
export const toAnnouncement = (row: AnnouncementRow): AnnouncementRecord => ({
  id: row.id,
  surgeId: row.surgeId,
  accountId: row.accountId,
  platform: row.platform,
  text: row.text,
  idempotencyKey: row.idempotencyKey,
  state: row.state as AnnouncementRecord['state'],
  platformPostId: row.platformPostId,
  url: row.url,
  error: row.error,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  sentAt: row.sentAt,
});

const counts = (value: Readonly<Record<string, number | undefined>>): Record<string, number> =>
  Object.fromEntries(Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number'));

/** Adds a handling mark once (inside a decision's transaction). */
export async function markHandled(tx: Tx, surgeId: string, mark: SurgeHandling, now: Date): Promise<void> {
  await tx
    .update(surges)
    .set({
      handling: sql`CASE WHEN ${mark} = ANY(${surges.handling}) THEN ${surges.handling} ELSE array_append(${surges.handling}, ${mark}::text) END`,
      updatedAt: now,
    })
    .where(eq(surges.id, surgeId));
}

export function createSurgeRepository(db: Database): SurgeRepository {
  const get = async (idInput: string): Promise<SurgeRecord | null> => {
    const id = parseInput(surgeIdSchema, idInput, 'surge id');
    const [row] = await db.select().from(surges).where(eq(surges.id, id));
    return row === undefined ? null : toSurge(row);
  };
  return {
    async record(summary, memberIds) {
      const ids = memberIds.filter(isUuid);
      const values = {
        watchId: summary.watchId,
        detectedAt: new Date(summary.detectedAt),
        firstAt: new Date(summary.firstAt),
        lastAt: new Date(summary.lastAt),
        count: summary.count,
        intents: counts(summary.intents),
        platforms: counts(summary.platforms),
        examples: summary.examples.map((e) => ({ id: e.id, text: clip(e.text, 500) })),
        perMinute: summary.perMinute.map((p) => ({ minute: p.minute, count: p.count })),
        updatedAt: new Date(),
      };
      return db.transaction(async (tx) => {
        await tx
          .insert(surges)
          .values({
            id: summary.id,
            status: summary.status,
            ...values,
            ...(summary.closedAt === undefined ? {} : { closedAt: new Date(summary.closedAt) }),
            ...(summary.closedBy === undefined ? {} : { closedBy: summary.closedBy }),
          })
          .onConflictDoUpdate({
            target: surges.id,
            // A surge a reviewer closed stays closed whatever the detector still says.
            set: {
              ...values,
              status: sql`CASE WHEN ${surges.status} = 'closed' THEN 'closed' ELSE ${summary.status} END`,
              closedAt: sql`COALESCE(${surges.closedAt}, ${summary.closedAt === undefined ? null : new Date(summary.closedAt)}::timestamptz)`,
              closedBy: sql`COALESCE(${surges.closedBy}, ${summary.closedBy ?? null}::text)`,
            },
          });
        if (ids.length === 0) return { joinedWithMessage: [] };
        const joined = await tx
          .update(matches)
          .set({ surgeId: summary.id })
          .where(and(inArray(matches.id, ids), isNull(matches.surgeId), eq(matches.suppressed, false)))
          .returning({ id: matches.id });
        if (joined.length === 0) return { joinedWithMessage: [] };
        const withMessage = await tx
          .select({ id: reviewMessages.matchId })
          .from(reviewMessages)
          .where(
            and(
              inArray(
                reviewMessages.matchId,
                joined.map((j) => j.id),
              ),
              isNotNull(reviewMessages.messageId),
            ),
          );
        return { joinedWithMessage: withMessage.map((r) => r.id) };
      });
    },

    get,

    async list(options = {}) {
      const limit = parseInput(z.number().int().min(1).max(1000), options.limit ?? 100, 'limit');
      const rows = await db
        .select()
        .from(surges)
        .where(options.status === undefined ? undefined : eq(surges.status, options.status))
        .orderBy(desc(surges.detectedAt))
        .limit(limit);
      return rows.map(toSurge);
    },

    async members(idInput, limitInput = 1000) {
      const id = parseInput(surgeIdSchema, idInput, 'surge id');
      const limit = parseInput(z.number().int().min(1).max(100_000), limitInput, 'limit');
      const rows = await db
        .select({
          id: matches.id,
          status: matches.status,
          platform: matches.platform,
          text: posts.text,
          url: posts.url,
          authorId: posts.authorId,
          authorHandle: sql<string>`${posts.post}->'author'->>'handle'`,
          createdAt: matches.createdAt,
          replyState: replies.state,
          dueAt: replies.dueAt,
          sentAt: replies.sentAt,
          replyUrl: replies.url,
          manualUrl: replies.manualUrl,
          error: replies.error,
          skipReason: surgeReplySkips.reason,
          skipParams: surgeReplySkips.params,
          skipAt: surgeReplySkips.at,
        })
        .from(matches)
        .innerJoin(posts, and(eq(posts.platform, matches.platform), eq(posts.postId, matches.postId)))
        .leftJoin(replies, and(eq(replies.matchId, matches.id), eq(replies.seq, 1)))
        .leftJoin(
          surgeReplySkips,
          and(eq(surgeReplySkips.surgeId, id), eq(surgeReplySkips.matchId, matches.id)),
        )
        .where(eq(matches.surgeId, id))
        .orderBy(asc(matches.createdAt), asc(matches.id))
        .limit(limit);
      return rows.map((r) => ({
        id: r.id,
        status: r.status,
        platform: r.platform,
        text: r.text,
        url: r.url,
        authorId: r.authorId,
        authorHandle: r.authorHandle ?? '',
        createdAt: r.createdAt,
        reply:
          r.replyState === null
            ? null
            : {
                state: r.replyState as ReplyState,
                dueAt: r.dueAt,
                sentAt: r.sentAt,
                url: r.replyUrl,
                manualUrl: r.manualUrl,
                error: r.error,
              },
        skip:
          r.skipReason === null || r.skipAt === null
            ? null
            : { reason: r.skipReason, params: r.skipParams ?? {}, at: r.skipAt },
      }));
    },

    async replyProgress(idInput) {
      const id = parseInput(surgeIdSchema, idInput, 'surge id');
      const [row] = await db
        .select({
          waiting: sql<number>`count(*) FILTER (WHERE ${matches.status} = 'new' AND ${replies.id} IS NULL AND ${surgeReplySkips.matchId} IS NULL)::int`,
          queued: sql<number>`count(*) FILTER (WHERE ${replies.state} = 'pending')::int`,
          sent: sql<number>`count(*) FILTER (WHERE ${replies.state} IN ('sent', 'manual_done'))::int`,
          failed: sql<number>`count(*) FILTER (WHERE ${replies.state} IN ('failed', 'manual_pending'))::int`,
          skipped: sql<number>`count(*) FILTER (WHERE ${replies.id} IS NULL AND ${surgeReplySkips.matchId} IS NOT NULL)::int`,
        })
        .from(matches)
        .leftJoin(replies, and(eq(replies.matchId, matches.id), eq(replies.seq, 1)))
        .leftJoin(
          surgeReplySkips,
          and(eq(surgeReplySkips.surgeId, id), eq(surgeReplySkips.matchId, matches.id)),
        )
        .where(eq(matches.surgeId, id));
      return {
        waiting: row?.waiting ?? 0,
        queued: row?.queued ?? 0,
        sent: row?.sent ?? 0,
        failed: row?.failed ?? 0,
        skipped: row?.skipped ?? 0,
      };
    },

    async escalations(idInput) {
      const id = parseInput(surgeIdSchema, idInput, 'surge id');
      return db
        .select({
          target: surgeEscalations.target,
          createdBy: surgeEscalations.createdBy,
          createdAt: surgeEscalations.createdAt,
        })
        .from(surgeEscalations)
        .where(eq(surgeEscalations.surgeId, id))
        .orderBy(asc(surgeEscalations.createdAt), asc(surgeEscalations.target));
    },

    async sizes(idsInput) {
      const ids = [...new Set(idsInput)].filter((id) => surgeIdSchema.safeParse(id).success);
      const result = new Map<string, { count: number; status: 'open' | 'closed' }>();
      if (ids.length === 0) return result;
      const rows = await db
        .select({ id: surges.id, count: surges.count, status: surges.status })
        .from(surges)
        .where(inArray(surges.id, ids));
      for (const row of rows)
        result.set(row.id, { count: row.count, status: row.status as 'open' | 'closed' });
      return result;
    },

    async surgeOf(matchIds) {
      const ids = matchIds.filter(isUuid);
      const result = new Map<string, string | null>();
      if (ids.length === 0) return result;
      const rows = await db
        .select({ id: matches.id, surgeId: matches.surgeId })
        .from(matches)
        .where(inArray(matches.id, ids));
      for (const row of rows) result.set(row.id, row.surgeId);
      return result;
    },

    async claimMessage(idInput, channelId, nonce) {
      const id = parseInput(surgeIdSchema, idInput, 'surge id');
      await db
        .update(surges)
        .set({ channelId, nonce })
        .where(and(eq(surges.id, id), isNull(surges.channelId)));
      const surge = await get(id);
      if (surge === null || surge.channelId === null) throw new NotFoundError('surge', id);
      return { channelId: surge.channelId, messageId: surge.messageId };
    },

    async setMessageId(idInput, messageId) {
      const id = parseInput(surgeIdSchema, idInput, 'surge id');
      await db.update(surges).set({ messageId }).where(eq(surges.id, id));
    },

    async history(since, idsInput) {
      const ids = idsInput?.filter(isUuid);
      if (ids !== undefined && ids.length === 0) return [];
      const rows = await db
        .select({
          id: matches.id,
          at: posts.createdAt,
          watches: matches.watches,
          intent: matches.intent,
          text: posts.text,
          platform: matches.platform,
          surgeId: matches.surgeId,
          heldUntil: matches.surgeHoldUntil,
        })
        .from(matches)
        .innerJoin(posts, and(eq(posts.platform, matches.platform), eq(posts.postId, matches.postId)))
        .where(
          and(
            gte(posts.createdAt, since),
            eq(matches.suppressed, false),
            ids === undefined ? undefined : inArray(matches.id, ids),
          ),
        )
        .orderBy(asc(posts.createdAt), asc(matches.id));
      return rows.map((r) => ({
        id: r.id,
        at: r.at.getTime(),
        watchId: r.watches[0] ?? '',
        intent: r.intent,
        text: r.text,
        platform: r.platform,
        surgeId: r.surgeId,
        heldUntil: r.heldUntil?.getTime() ?? null,
      }));
    },

    async hourlyCounts(since) {
      const hour = sql<Date>`date_trunc('hour', ${posts.createdAt})`;
      const watch = sql<string>`${matches.watches}[1]`;
      const rows = await db
        .select({
          watchId: watch,
          intent: matches.intent,
          hourStart: hour,
          count: sql<number>`count(*)::int`,
        })
        .from(matches)
        .innerJoin(posts, and(eq(posts.platform, matches.platform), eq(posts.postId, matches.postId)))
        .where(and(gte(posts.createdAt, since), eq(matches.suppressed, false), isNull(matches.surgeId)))
        .groupBy(watch, matches.intent, hour);
      return rows.map((r) => ({ ...r, hourStart: new Date(r.hourStart) }));
    },

    async markPending(matchIds) {
      const ids = matchIds.filter(isUuid);
      if (ids.length > 0)
        await db.update(matches).set({ surgePending: true }).where(inArray(matches.id, ids));
    },

    async markJudged(matchIds) {
      const ids = matchIds.filter(isUuid);
      if (ids.length > 0)
        await db
          .update(matches)
          .set({ surgePending: false })
          .where(and(inArray(matches.id, ids), eq(matches.surgePending, true)));
    },

    async holdBack(entries) {
      const valid = entries.filter((e) => isUuid(e.id) && Number.isFinite(e.until.getTime()));
      if (valid.length === 0) return [];
      const result = await db.execute<{ id: string }>(sql`
        UPDATE matches AS m
        SET surge_hold_until = GREATEST(m.surge_hold_until, v.until)
        FROM jsonb_to_recordset(${JSON.stringify(
          valid.map((e) => ({ id: e.id, until: e.until.toISOString() })),
        )}::jsonb) AS v(id uuid, until timestamptz)
        WHERE m.id = v.id AND m.surge_id IS NULL
        RETURNING m.id`);
      return result.rows.map((r) => r.id);
    },

    async markLikely(matchIds) {
      const ids = matchIds.filter(isUuid);
      if (ids.length > 0)
        await db
          .update(matches)
          .set({ surgeLikely: true })
          .where(and(inArray(matches.id, ids), isNull(matches.surgeId)));
    },

    async heldUntil(matchId) {
      if (!isUuid(matchId)) return null;
      const [row] = await db
        .select({ until: matches.surgeHoldUntil })
        .from(matches)
        .where(eq(matches.id, matchId));
      return row?.until ?? null;
    },

    async releaseHold(matchIds, at) {
      const ids = matchIds.filter(isUuid);
      if (ids.length > 0)
        await db
          .update(matches)
          .set({ surgeHoldUntil: sql`LEAST(${matches.surgeHoldUntil}, ${at.toISOString()}::timestamptz)` })
          .where(and(inArray(matches.id, ids), isNotNull(matches.surgeHoldUntil)));
    },

    async isSurgeMessage(messageId) {
      if (typeof messageId !== 'string' || messageId === '') return false;
      const [row] = await db
        .select({ id: surges.id })
        .from(surges)
        .where(eq(surges.messageId, messageId))
        .limit(1);
      return row !== undefined;
    },

    async pending(olderThan, limitInput) {
      const limit = parseInput(z.number().int().min(1).max(10_000), limitInput, 'limit');
      const rows = await db
        .select({ id: matches.id })
        .from(matches)
        .where(and(eq(matches.surgePending, true), lt(matches.createdAt, olderThan)))
        .orderBy(asc(matches.createdAt))
        .limit(limit);
      return rows.map((r) => r.id);
    },

    async announcements(surgeIdInput) {
      const surgeId = parseInput(surgeIdSchema, surgeIdInput, 'surge id');
      const rows = await db
        .select()
        .from(surgeAnnouncements)
        .where(eq(surgeAnnouncements.surgeId, surgeId))
        .orderBy(asc(surgeAnnouncements.createdAt));
      return rows.map(toAnnouncement);
    },

    async getAnnouncement(id) {
      if (!isUuid(id)) return null;
      const [row] = await db.select().from(surgeAnnouncements).where(eq(surgeAnnouncements.id, id));
      return row === undefined ? null : toAnnouncement(row);
    },

    async markAnnouncementSent(id, result, at) {
      await db
        .update(surgeAnnouncements)
        .set({
          state: 'sent',
          platformPostId: result.platformPostId,
          url: result.url,
          error: null,
          sentAt: at,
        })
        .where(eq(surgeAnnouncements.id, id));
    },

    async markAnnouncementFailed(id, error) {
      await db
        .update(surgeAnnouncements)
        .set({ state: 'failed', error: clip(error) })
        .where(and(eq(surgeAnnouncements.id, id), sql`${surgeAnnouncements.state} <> 'sent'`));
    },

    async inPeriod(from, to, limitInput = 50) {
      return surgesInPeriod(db, from, to, limitInput);
    },
  };
}

type PeriodRow = {
  id: string;
  watch_id: string;
  status: string;
  detected_at: Date | string;
  first_at: Date | string;
  last_at: Date | string;
  closed_at: Date | string | null;
  closed_by: string | null;
  count: number;
  intents: Record<string, number>;
  platforms: Record<string, number>;
  handling: string[];
  example: string | null;
  members: SurgeMemberCounts | null;
  announcements: SurgeAnnouncementMark[] | null;
};

const NO_MEMBERS: SurgeMemberCounts = {
  total: 0,
  waiting: 0,
  replied: 0,
  dismissed: 0,
  escalated: 0,
  deleted: 0,
};

/**
 * The surges of [from, to) with how they were handled, in one statement: each surge's members counted
 * by status through matches(surge_id) and its announcements, both as lateral subqueries (no query per
 * surge). Shared by `surges.inPeriod` and the dashboard's figures.
 */
export async function surgesInPeriod(
  db: Executor,
  fromInput: Date,
  toInput: Date,
  limitInput: number,
): Promise<SurgePeriodSummary[]> {
  const from = parseDate(fromInput, 'period start');
  const to = parseDate(toInput, 'period end');
  const limit = parseInput(z.number().int().min(1).max(1000), limitInput, 'limit');
  const result = await db.execute<PeriodRow>(sql`
    SELECT s.id, s.watch_id, s.status, s.detected_at, s.first_at, s.last_at, s.closed_at, s.closed_by,
           s.count, s.intents, s.platforms, s.handling, s.examples->0->>'text' AS example,
           m.members, a.announcements
    FROM ${surges} s
    LEFT JOIN LATERAL (
      SELECT json_build_object(
               'total', count(*),
               'waiting', count(*) FILTER (WHERE x.status = 'new'),
               'replied', count(*) FILTER (WHERE x.status IN ('replied', 'manual_pending')),
               'dismissed', count(*) FILTER (WHERE x.status = 'dismissed'),
               'escalated', count(*) FILTER (WHERE x.status = 'escalated'),
               'deleted', count(*) FILTER (WHERE x.status = 'deleted')) AS members
      FROM ${matches} x WHERE x.surge_id = s.id
    ) m ON TRUE
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_object('platform', y.platform, 'state', y.state, 'url', y.url)
                      ORDER BY y.created_at, y.platform, y.id) AS announcements
      FROM ${surgeAnnouncements} y WHERE y.surge_id = s.id
    ) a ON TRUE
    WHERE s.first_at < ${to} AND s.last_at >= ${from}
    ORDER BY s.detected_at DESC, s.id DESC
    LIMIT ${limit}`);
  const at = (value: Date | string) => new Date(value);
  return result.rows.map((row) => ({
    id: row.id,
    watchId: row.watch_id,
    status: row.status as SurgePeriodSummary['status'],
    detectedAt: at(row.detected_at),
    firstAt: at(row.first_at),
    lastAt: at(row.last_at),
    closedAt: row.closed_at === null ? null : at(row.closed_at),
    closedBy: (row.closed_by as SurgePeriodSummary['closedBy']) ?? null,
    count: row.count,
    intents: row.intents,
    platforms: row.platforms,
    handling: row.handling as SurgeHandling[],
    handled: { members: row.members ?? NO_MEMBERS, announcements: row.announcements ?? [] },
    example: row.example,
  }));
}
