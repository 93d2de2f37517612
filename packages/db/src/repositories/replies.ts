import type { Platform, Post } from '@kikimimi/rules';
import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { contacts, matches, posts, replies } from '../schema.ts';
import type { Actor, ReplyRecord, ReplyState } from '../types.ts';
import { handleKeyOf } from './ingest.ts';
import { applyStatus } from './matches.ts';
import { lockMatch } from './reviews.ts';
import {
  clip,
  FOREIGN_KEY_VIOLATION,
  isUuid,
  parseActor,
  parseDate,
  parseInput,
  pgCode,
  type Tx,
  writeAudit,
} from './shared.ts';
import { addUsage } from './sources.ts';

export interface BeginReply {
  readonly accountId: string;
  /** A follow-up's post of the customer to answer; absent: the reply to the matched post (seq 1). */
  readonly target?: { readonly postId: string; readonly url: string; readonly authorHandle: string };
  readonly text: string;
  /** Unique per reply; the reply worker may hand it to the platform (Mastodon's Idempotency-Key). */
  readonly idempotencyKey: string;
  readonly actor: Actor;
  /** Not sent before this time (a paced reply to a surge's member); absent: at once. */
  readonly dueAt?: Date;
}

/**
 * The one public reply of a match, and the states that make it exactly-once:
 * pending → sent | failed (→ retried → sent) | manual_pending → manual_done.
 * `sent` and `manual_done` are final; marking them again changes nothing.
 */
export interface ReplyRepository {
  /**
   * Creates the match's reply, or returns the one it already has (`created: false`); never a second
   * row. ConflictError when the match was dismissed (decided under the match's lock, see
   * ReviewRepository.decide) or the idempotency key belongs to another match's reply.
   */
  begin(matchId: string, input: BeginReply, now: Date): Promise<{ created: boolean; reply: ReplyRecord }>;
  /**
   * The platform accepted the reply: state sent, the contact recorded (author of the matched post),
   * usage counted, match 'replied' — one transaction. Idempotent.
   */
  markSent(
    id: string,
    result: { platformReplyId: string; url: string | null },
    now: Date,
    options?: { readonly followUntil?: Date },
  ): Promise<ReplyRecord>;
  /** A send attempt failed (attempts + 1); a final reply is left as it is. */
  markFailed(id: string, error: string, now: Date): Promise<ReplyRecord>;
  /** The platform refused an API reply: the reviewer gets `manualUrl` to post it by hand. */
  markManualPending(id: string, manualUrl: string, now?: Date): Promise<ReplyRecord>;
  /** The reviewer posted it by hand: state manual_done, contact and usage recorded, audited. Idempotent. */
  markManualDone(id: string, result: { url?: string | null }, actor: Actor, now: Date): Promise<ReplyRecord>;
  get(id: string): Promise<ReplyRecord | null>;
  /** The reply to the matched post (seq 1). */
  forMatch(matchId: string): Promise<ReplyRecord | null>;
  /** Every reply of the match's case, in order (seq). */
  listForMatch(matchId: string): Promise<ReplyRecord[]>;
  /**
   * Replies still to be sent (pending, or failed and not handed to a reviewer) last changed before
   * `olderThan`, oldest first: what the sweeper re-drives when their job was lost.
   */
  unfinished(olderThan: Date, limit: number): Promise<ReplyRecord[]>;
}

const FINAL: readonly ReplyState[] = ['sent', 'manual_done'];

const beginSchema = z.object({
  matchId: z.uuid({ error: 'a match id (uuid)' }),
  accountId: z.uuid({ error: 'an account id (uuid)' }),
  text: z.string().trim().min(1).max(10_000),
  idempotencyKey: z.string().min(1).max(200),
  target: z
    .strictObject({
      postId: z.string().min(1).max(200),
      url: z.string().min(1).max(2000),
      authorHandle: z.string().min(1).max(400),
    })
    .optional(),
});
const url = z.url({ protocol: /^https?$/u, error: 'an http(s) URL' }).max(2000);
const sentSchema = z.strictObject({ platformReplyId: z.string().min(1).max(200), url: url.nullable() });
const manualDoneSchema = z.strictObject({ url: url.nullable().optional() });

type Row = typeof replies.$inferSelect;

export function toReply(row: Row): ReplyRecord {
  return {
    id: row.id,
    matchId: row.matchId,
    seq: row.seq,
    target:
      row.targetPostId === null
        ? null
        : { postId: row.targetPostId, url: row.targetUrl ?? '', authorHandle: row.targetHandle ?? '' },
    accountId: row.accountId,
    text: row.text,
    idempotencyKey: row.idempotencyKey,
    state: row.state as ReplyState,
    platformReplyId: row.platformReplyId,
    url: row.url,
    manualUrl: row.manualUrl,
    error: row.error,
    attempts: row.attempts,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    sentAt: row.sentAt,
    dueAt: row.dueAt,
  };
}

/**
 * The reply row, locked for the rest of the transaction, after its match's row: every transaction that
 * takes both locks takes them in this order (match, then reply), as `begin` does, so a reply that is
 * re-submitted while the reply job records its outcome waits instead of deadlocking.
 */
async function lockReply(tx: Tx, id: string): Promise<Row> {
  const [owner] = isUuid(id)
    ? await tx.select({ matchId: replies.matchId }).from(replies).where(eq(replies.id, id))
    : [];
  if (owner === undefined) throw new NotFoundError('reply', String(id));
  await lockMatch(tx, owner.matchId);
  const [row] = await tx.select().from(replies).where(eq(replies.id, id)).for('update');
  if (row === undefined) throw new NotFoundError('reply', String(id));
  return row;
}

/** Records that we approached the author of the match's post (at most once per match). */
async function recordContact(tx: Tx, matchId: string, at: Date): Promise<void> {
  const [target] = await tx
    .select({ platform: matches.platform, authorId: posts.authorId, post: posts.post })
    .from(matches)
    .innerJoin(posts, and(eq(posts.platform, matches.platform), eq(posts.postId, matches.postId)))
    .where(eq(matches.id, matchId));
  if (target === undefined) throw new NotFoundError('match', matchId);
  const handle = (target.post as Post).author.handle;
  const platform = target.platform as Platform;
  await tx
    .insert(contacts)
    .values({
      platform,
      authorId: target.authorId,
      handle,
      handleKey: handleKeyOf(platform, target.authorId, handle),
      matchId,
      at,
    })
    .onConflictDoNothing({ target: contacts.matchId });
}

/**
 * A reply's final transition (sent, or posted by hand) inside the caller's transaction: state, the
 * contact (author of the matched post), usage and the match's status; audited when `audit` is given.
 * A reply already final is returned as it is.
 */
export async function finishReply(
  tx: Tx,
  id: string,
  set: Partial<typeof replies.$inferInsert>,
  now: Date,
  audit?: { actor: Actor; action: string },
  followUntil?: Date,
): Promise<ReplyRecord> {
  const current = await lockReply(tx, id);
  if (FINAL.includes(current.state as ReplyState)) return toReply(current);
  const [row] = await tx
    .update(replies)
    .set({ ...set, error: null, sentAt: now, updatedAt: now })
    .where(eq(replies.id, current.id))
    .returning();
  // One contact per match: answering someone who wrote back is not approaching them again.
  await recordContact(tx, current.matchId, now);
  await addUsage(tx, current.accountId, now, { replies: 1 });
  await applyStatus(tx, current.matchId, 'replied', now);
  // Our move is made: the case waits for the customer, whose answers are followed until `followUntil`.
  await tx
    .update(matches)
    .set({
      caseState: 'waiting',
      ...(followUntil === undefined
        ? {}
        : { followUntil: sql`greatest(${matches.followUntil}, ${followUntil.toISOString()}::timestamptz)` }),
    })
    .where(eq(matches.id, current.matchId));
  if (audit !== undefined) {
    await writeAudit(
      tx,
      audit.actor,
      audit.action,
      current.matchId,
      { replyId: current.id, url: set.url },
      now,
    );
  }
  return toReply(row as Row);
}

/**
 * Validates and inserts a match's reply inside the caller's transaction (which holds the match's lock):
 * the new row, or undefined when the match already has one. ConflictError when the idempotency key
 * belongs to another match's reply; NotFoundError when the match does not exist.
 */
export async function insertReply(
  tx: Tx,
  matchIdInput: string,
  input: BeginReply,
  nowInput: Date,
): Promise<ReplyRecord | undefined> {
  const now = parseDate(nowInput, 'reply time');
  const actor = parseActor(input?.actor);
  const data = parseInput(
    beginSchema,
    {
      matchId: matchIdInput,
      accountId: input?.accountId,
      text: input?.text,
      idempotencyKey: input?.idempotencyKey,
      target: input?.target,
    },
    'reply',
  );
  const { target, ...row } = data;
  // The first reply is seq 1; a follow-up takes the next (the caller holds the match's lock).
  const [last] = await tx
    .select({ seq: sql<number>`coalesce(max(${replies.seq}), 0)::int` })
    .from(replies)
    .where(eq(replies.matchId, data.matchId));
  const seq = target === undefined ? 1 : Math.max(2, (last?.seq ?? 0) + 1);
  const [inserted] = await tx
    .insert(replies)
    .values({
      ...row,
      seq,
      ...(target === undefined
        ? {}
        : { targetPostId: target.postId, targetUrl: target.url, targetHandle: target.authorHandle }),
      state: 'pending',
      createdBy: actor,
      createdAt: now,
      updatedAt: now,
      ...(input.dueAt === undefined ? {} : { dueAt: parseDate(input.dueAt, 'reply due time') }),
    })
    .onConflictDoNothing()
    .returning();
  if (inserted !== undefined) return toReply(inserted);
  const [existing] = await tx
    .select({ id: replies.id })
    .from(replies)
    .where(
      and(
        eq(replies.matchId, data.matchId),
        target === undefined ? eq(replies.seq, 1) : eq(replies.targetPostId, target.postId),
      ),
    );
  if (existing === undefined) {
    throw new ConflictError(
      `idempotency key ${JSON.stringify(data.idempotencyKey)} is already used by the reply of another match`,
    );
  }
  return undefined;
}

export function createReplyRepository(db: Database): ReplyRepository {
  const get = async (id: string) => {
    if (!isUuid(id)) return null;
    const [row] = await db.select().from(replies).where(eq(replies.id, id));
    return row === undefined ? null : toReply(row);
  };

  const forMatch = async (matchId: string) => {
    if (!isUuid(matchId)) return null;
    const [row] = await db
      .select()
      .from(replies)
      .where(and(eq(replies.matchId, matchId), eq(replies.seq, 1)));
    return row === undefined ? null : toReply(row);
  };

  /** Final transition shared by markSent and markManualDone. */
  const finish = (
    id: string,
    set: Partial<typeof replies.$inferInsert>,
    now: Date,
    audit?: { actor: Actor; action: string },
    followUntil?: Date,
  ) => db.transaction((tx) => finishReply(tx, id, set, now, audit, followUntil));

  return {
    async begin(matchIdInput, input, nowInput) {
      const matchId = parseInput(beginSchema.shape.matchId, matchIdInput, 'reply');
      try {
        const created = await db.transaction(async (tx) => {
          // The match's lock, as every decision takes it: a dismissal and a reply cannot both win.
          if ((await lockMatch(tx, matchId)) === 'dismissed') {
            throw new ConflictError('the match was dismissed: it takes no reply');
          }
          return insertReply(tx, matchId, input, nowInput);
        });
        if (created !== undefined) return { created: true, reply: created };
      } catch (error) {
        if (pgCode(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError('match', matchId);
        throw error;
      }
      const existing = await forMatch(matchId);
      if (existing === null) throw new NotFoundError('match', matchId);
      return { created: false, reply: existing };
    },

    async markSent(id, resultInput, nowInput, options) {
      const now = parseDate(nowInput, 'sent time');
      const result = parseInput(sentSchema, resultInput, 'sent reply');
      const followUntil =
        options?.followUntil === undefined ? undefined : parseDate(options.followUntil, 'follow until');
      return finish(
        id,
        { state: 'sent', platformReplyId: result.platformReplyId, url: result.url },
        now,
        undefined,
        followUntil,
      );
    },

    async markFailed(id, errorInput, nowInput) {
      const now = parseDate(nowInput, 'failure time');
      const error = clip(String(errorInput));
      if (!isUuid(id)) throw new NotFoundError('reply', String(id));
      const [row] = await db
        .update(replies)
        .set({ state: 'failed', error, attempts: sql`${replies.attempts} + 1`, updatedAt: now })
        .where(and(eq(replies.id, id), inArray(replies.state, ['pending', 'failed'])))
        .returning();
      if (row !== undefined) return toReply(row);
      const current = await get(id);
      if (current === null) throw new NotFoundError('reply', id);
      return current;
    },

    async markManualPending(id, manualUrlInput, nowInput = new Date()) {
      const now = parseDate(nowInput, 'time');
      const manualUrl = parseInput(url, manualUrlInput, 'manual reply URL');
      return db.transaction(async (tx) => {
        const current = await lockReply(tx, id);
        if (FINAL.includes(current.state as ReplyState)) return toReply(current);
        const [row] = await tx
          .update(replies)
          .set({ state: 'manual_pending', manualUrl, updatedAt: now })
          .where(eq(replies.id, current.id))
          .returning();
        await applyStatus(tx, current.matchId, 'manual_pending', now);
        return toReply(row as Row);
      });
    },

    async markManualDone(id, resultInput, actorInput, nowInput) {
      const actor = parseActor(actorInput);
      const now = parseDate(nowInput, 'time');
      const result = parseInput(manualDoneSchema, resultInput ?? {}, 'manual reply');
      return finish(id, { state: 'manual_done', url: result.url ?? null }, now, {
        actor,
        action: 'reply.manual_done',
      });
    },

    get,

    forMatch,

    async listForMatch(matchId) {
      if (!isUuid(matchId)) return [];
      const rows = await db
        .select()
        .from(replies)
        .where(eq(replies.matchId, matchId))
        .orderBy(asc(replies.seq));
      return rows.map(toReply);
    },

    async unfinished(olderThanInput, limitInput) {
      const olderThan = parseDate(olderThanInput, 'olderThan');
      const limit = parseInput(z.number().int().min(1).max(10_000), limitInput, 'limit');
      const rows = await db
        .select()
        .from(replies)
        .where(and(inArray(replies.state, ['pending', 'failed']), lt(replies.updatedAt, olderThan)))
        .orderBy(asc(replies.updatedAt))
        .limit(limit);
      return rows.map(toReply);
    },
  };
}
