import type { Platform, Post } from '@kikimimi/rules';
import { and, asc, eq, gt, isNotNull, lte } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { caseEvents, matches, outbox, posts, replies } from '../schema.ts';
import type { AnswerReading, CaseEvent, CaseEventKind, CaseState } from '../types.ts';
import type { OutboxJob } from './desk.ts';
import { lockMatch } from './reviews.ts';
import { isUuid, parseDate, parseInput, type Tx } from './shared.ts';

/** One of our sent replies whose case is still followed: what the follower asks the platform about. */
export interface FollowedReply {
  readonly replyId: string;
  readonly matchId: string;
  readonly platform: Platform;
  /** Our reply's id on the platform. */
  readonly platformReplyId: string;
  /** The matched post (X: its conversation id is where answers land). */
  readonly postId: string;
  readonly conversationId: string | null;
  /** The customer: the author of the matched post. */
  readonly customer: { readonly id: string; readonly handle: string };
  readonly sentAt: Date;
  readonly followUntil: Date;
}

/** What the customer did with one of our replies, as the platform reported it. */
export type CustomerActivity =
  | {
      readonly kind: 'answer';
      /** The post answering our reply (its `inReplyTo` is our reply's platform id). */
      readonly post: Post;
      readonly reading: AnswerReading;
    }
  | {
      readonly kind: 'like' | 'repost';
      readonly platform: Platform;
      /** Our reply's id on the platform. */
      readonly replyPostId: string;
      readonly author: { readonly id: string; readonly handle: string };
      readonly at: Date;
    };

export interface RecordedActivity {
  readonly event: CaseEvent;
  readonly matchId: string;
  /** The case went back to open (an unhappy answer or a new question). */
  readonly reopened: boolean;
  /** The case was resolved by it (a thankful answer). */
  readonly resolved: boolean;
}

export interface CaseRepository {
  /** A case's events (answers, reactions, notes, assignments, state changes), in time order. */
  events(matchId: string): Promise<CaseEvent[]>;
  /** An account's sent replies whose case is followed at `now` (follow_until in the future). */
  followed(accountId: string, now: Date, limit?: number): Promise<FollowedReply[]>;
  /**
   * Records the customer's answer to (or reaction on) one of our replies of `accountId`, and moves the
   * case: a thankful answer resolves a waiting case, an unhappy one or a new question opens it again.
   * `jobs` are written to the outbox in the same transaction. Null when it is not for one of our
   * followed replies, not from the customer, or already recorded (read twice).
   */
  recordActivity(
    accountId: string,
    activity: CustomerActivity,
    now: Date,
    jobs: (recorded: RecordedActivity) => readonly OutboxJob[],
  ): Promise<RecordedActivity | null>;
  /** Cases waiting for a customer whose follow window ended: resolved. Returns their match ids. */
  expireFollows(now: Date): Promise<string[]>;
}

type EventRow = typeof caseEvents.$inferSelect;

export function toCaseEvent(row: EventRow): CaseEvent {
  return {
    id: row.id,
    matchId: row.matchId,
    kind: row.kind as CaseEventKind,
    replyId: row.replyId,
    actor: row.actor ?? null,
    platform: (row.platform as Platform | null) ?? null,
    postId: row.postId,
    url: row.url,
    authorId: row.authorId,
    authorHandle: row.authorHandle,
    text: row.text,
    post: row.post ?? null,
    reading: (row.classification as AnswerReading | null) ?? null,
    detail: row.detail,
    at: row.at,
  };
}

/** Sets a case's state inside the caller's transaction. */
export async function setCaseState(tx: Tx, matchId: string, state: CaseState): Promise<void> {
  await tx.update(matches).set({ caseState: state }).where(eq(matches.id, matchId));
}

/** The next state of a case after the customer's activity (undefined: unchanged). */
export function caseStateAfter(current: CaseState, activity: CustomerActivity): CaseState | undefined {
  if (activity.kind !== 'answer') return undefined;
  switch (activity.reading.kind) {
    case 'unhappy':
    case 'question':
      return 'open';
    case 'thanks':
      return current === 'waiting' ? 'resolved' : undefined;
    default:
      return undefined;
  }
}

const readingSchema = z.strictObject({
  kind: z.enum(['thanks', 'unhappy', 'question', 'other']),
  signals: z.array(z.string().max(200)).max(50),
  lang: z.string().max(20).nullable(),
});

export function createCaseRepository(db: Database): CaseRepository {
  return {
    async events(matchId) {
      if (!isUuid(matchId)) return [];
      const rows = await db
        .select()
        .from(caseEvents)
        .where(eq(caseEvents.matchId, matchId))
        .orderBy(asc(caseEvents.at), asc(caseEvents.createdAt));
      return rows.map(toCaseEvent);
    },

    async followed(accountId, nowInput, limitInput = 5_000) {
      const now = parseDate(nowInput, 'now');
      const limit = parseInput(z.number().int().min(1).max(50_000), limitInput, 'limit');
      if (!isUuid(accountId)) return [];
      const rows = await db
        .select({
          replyId: replies.id,
          matchId: replies.matchId,
          platform: matches.platform,
          platformReplyId: replies.platformReplyId,
          postId: matches.postId,
          post: posts.post,
          sentAt: replies.sentAt,
          followUntil: matches.followUntil,
        })
        .from(replies)
        .innerJoin(matches, eq(matches.id, replies.matchId))
        .innerJoin(posts, and(eq(posts.platform, matches.platform), eq(posts.postId, matches.postId)))
        .where(
          and(
            eq(replies.accountId, accountId),
            eq(replies.state, 'sent'),
            isNotNull(replies.platformReplyId),
            gt(matches.followUntil, now),
          ),
        )
        .orderBy(asc(replies.sentAt))
        .limit(limit);
      return rows.map((row) => ({
        replyId: row.replyId,
        matchId: row.matchId,
        platform: row.platform as Platform,
        platformReplyId: row.platformReplyId as string,
        postId: row.postId,
        conversationId: row.post.conversationId ?? null,
        customer: { id: row.post.author.id, handle: row.post.author.handle },
        sentAt: row.sentAt as Date,
        followUntil: row.followUntil as Date,
      }));
    },

    async recordActivity(accountId, activity, nowInput, jobs) {
      const now = parseDate(nowInput, 'now');
      if (!isUuid(accountId)) return null;
      const platform = activity.kind === 'answer' ? activity.post.platform : activity.platform;
      const repliedTo = activity.kind === 'answer' ? activity.post.inReplyTo : activity.replyPostId;
      const author = activity.kind === 'answer' ? activity.post.author : activity.author;
      if (repliedTo === null) return null;
      const reading =
        activity.kind === 'answer' ? parseInput(readingSchema, activity.reading, 'answer reading') : null;
      const [ours] = await db
        .select({
          replyId: replies.id,
          matchId: replies.matchId,
          post: posts.post,
          platform: matches.platform,
        })
        .from(replies)
        .innerJoin(matches, eq(matches.id, replies.matchId))
        .innerJoin(posts, and(eq(posts.platform, matches.platform), eq(posts.postId, matches.postId)))
        .where(and(eq(replies.accountId, accountId), eq(replies.platformReplyId, repliedTo)));
      // Only the customer's own answers and reactions belong to the case (others may reply to us too).
      if (ours === undefined || ours.platform !== platform || ours.post.author.id !== author.id) return null;

      return db.transaction(async (tx) => {
        await lockMatch(tx, ours.matchId);
        const [state] = await tx
          .select({ caseState: matches.caseState })
          .from(matches)
          .where(eq(matches.id, ours.matchId));
        const current = (state?.caseState ?? 'open') as CaseState;
        const dedupeKey =
          activity.kind === 'answer'
            ? `answer:${platform}:${activity.post.id}`
            : `${activity.kind}:${platform}:${repliedTo}:${author.id}`;
        const [row] = await tx
          .insert(caseEvents)
          .values({
            matchId: ours.matchId,
            kind: activity.kind,
            replyId: ours.replyId,
            platform,
            postId: activity.kind === 'answer' ? activity.post.id : repliedTo,
            url: activity.kind === 'answer' ? activity.post.url : null,
            authorId: author.id,
            authorHandle: author.handle,
            text: activity.kind === 'answer' ? activity.post.text : '',
            post: activity.kind === 'answer' ? activity.post : null,
            classification: reading,
            dedupeKey,
            at: activity.kind === 'answer' ? new Date(activity.post.createdAt) : activity.at,
            createdAt: now,
          })
          .onConflictDoNothing()
          .returning();
        if (row === undefined) return null;
        const next = caseStateAfter(current, activity);
        if (next !== undefined && next !== current) await setCaseState(tx, ours.matchId, next);
        const recorded: RecordedActivity = {
          event: toCaseEvent(row),
          matchId: ours.matchId,
          reopened: next === 'open' && current !== 'open',
          resolved: next === 'resolved',
        };
        const wanted = jobs(recorded);
        if (wanted.length > 0) {
          await tx.insert(outbox).values(
            wanted.map((job) => ({
              queue: job.queue,
              jobId: job.jobId,
              payload: job.payload as Record<string, unknown>,
              rerun: job.rerun ?? false,
              createdAt: now,
            })),
          );
        }
        return recorded;
      });
    },

    async expireFollows(nowInput) {
      const now = parseDate(nowInput, 'now');
      const rows = await db
        .update(matches)
        .set({ caseState: 'resolved' })
        .where(and(eq(matches.caseState, 'waiting'), lte(matches.followUntil, now)))
        .returning({ id: matches.id });
      return rows.map((row) => row.id);
    },
  };
}
