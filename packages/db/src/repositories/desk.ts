import type { Platform } from '@kikimimi/rules';
import { and, asc, eq, inArray, isNotNull, max, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { NotFoundError } from '../errors.ts';
import {
  caseEvents,
  matches,
  outbox,
  posts,
  replies,
  surgeAnnouncements,
  surgeEscalations,
  surgeReplySkips,
  surges,
} from '../schema.ts';
import type {
  Actor,
  CaseEvent,
  CaseState,
  DecisionKind,
  MatchStatus,
  ReplyRecord,
  ReviewDecision,
} from '../types.ts';
import { setCaseState, toCaseEvent } from './cases.ts';
import { applyStatus } from './matches.ts';
import { type BeginReply, finishReply, insertReply, toReply } from './replies.ts';
import { escalatedTo, insertDecision, lockMatch } from './reviews.ts';
import {
  clip,
  FOREIGN_KEY_VIOLATION,
  parseActor,
  parseInput,
  pgCode,
  type Tx,
  writeAudit,
} from './shared.ts';
import {
  type AnnouncementRecord,
  markHandled,
  type SurgeHandling,
  type SurgeRecord,
  toAnnouncement,
  toSurge,
} from './surges.ts';

/** A job to put on a queue once the transaction that wants it has committed. */
export interface OutboxJob {
  readonly queue: string;
  /** The queue's job id: a repeated relay of the same row is a no-op on the queue. */
  readonly jobId: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** Run the job again when the queue keeps a finished job under this id (a reviewer's retry). */
  readonly rerun?: boolean;
  /** The job waits on its queue until then (a paced reply); absent: it runs at once. */
  readonly notBefore?: Date;
}

/** A surge's member as a reply to the members reads it, under its lock. */
export interface LockedMember {
  readonly id: string;
  readonly status: MatchStatus;
  /** It has its reply (to the matched post) already. */
  readonly replied: boolean;
}

/** Why a reply to a surge's members left one out (packages/desk decides; stored for the visible queue). */
export interface SurgeSkipRow {
  readonly matchId: string;
  readonly reason: string;
  readonly params?: Readonly<Record<string, string | number>>;
}

/**
 * The storage steps of a review decision, all inside one transaction that holds the match's row lock
 * (taken by `lockMatch`, first): what the desk (packages/desk) composes into a decision. Nothing here
 * decides anything; it only reads and writes.
 */
export interface DeskTransaction {
  /** Locks the match's row for the rest of the transaction; its status, or null when there is none. */
  lockMatch(matchId: string): Promise<MatchStatus | null>;
  /** The match's reply to its post (seq 1), read under the match's lock. */
  replyOf(matchId: string): Promise<ReplyRecord | null>;
  /** Every reply of the match's case, in order, read under the match's lock. */
  repliesOf(matchId: string): Promise<ReplyRecord[]>;
  /** Whether the match was escalated to `target` before. */
  escalatedTo(matchId: string, target: string): Promise<boolean>;
  /** The match's reply row; null when it has one already (the lock makes that impossible for the desk). */
  insertReply(matchId: string, input: BeginReply, now: Date): Promise<ReplyRecord | null>;
  /** A decision and its audit entry `match.<kind>`. */
  recordDecision(
    matchId: string,
    kind: DecisionKind,
    actor: Actor,
    detail: Readonly<Record<string, unknown>>,
    now: Date,
  ): Promise<ReviewDecision>;
  setStatus(matchId: string, status: MatchStatus, now: Date): Promise<void>;
  /** The reviewer posted the reply by hand: final state, contact, usage, status, audit (`reply.manual_done`). */
  markManualDone(replyId: string, url: string | null, actor: Actor, now: Date): Promise<ReplyRecord>;
  /** Back to `pending` for another send (a failed reply a reviewer retries), audited. */
  requeueReply(replyId: string, actor: Actor, now: Date): Promise<ReplyRecord>;
  audit(
    actor: Actor,
    action: string,
    target: string | null,
    detail: Record<string, unknown>,
    now: Date,
  ): Promise<void>;
  /** The case's state and assignee (read under the match's lock). */
  caseOf(matchId: string): Promise<{ state: CaseState; assignee: Actor | null }>;
  setCaseState(matchId: string, state: CaseState): Promise<void>;
  setAssignee(matchId: string, assignee: Actor | null): Promise<void>;
  /** A teammate's event in the case: a note, an assignment, a state change. */
  addCaseEvent(
    matchId: string,
    event: {
      readonly kind: 'note' | 'assigned' | 'state';
      readonly actor: Actor;
      readonly text?: string;
      readonly detail?: Readonly<Record<string, unknown>>;
    },
    now: Date,
  ): Promise<CaseEvent>;
  /**
   * Tags the case as a customer voice for `department` (once per department: tagging it again updates
   * the summary, the tagger and the time). `created` is false for such an update.
   */
  tagVoice(
    matchId: string,
    voice: { readonly actor: Actor; readonly department: string; readonly summary: string },
    now: Date,
  ): Promise<{ event: CaseEvent; created: boolean }>;
  /** Puts a job in the outbox: relayed to its queue after the commit (see OutboxRepository). */
  enqueue(job: OutboxJob, now: Date): Promise<void>;
  /** Locks a surge's row for the rest of the transaction (every decision on a surge takes it first). */
  lockSurge(surgeId: string): Promise<SurgeRecord | null>;
  /** The surge's announcement on an account; null when it has one already (pressed twice). */
  insertAnnouncement(
    surgeId: string,
    input: {
      readonly accountId: string;
      readonly platform: string;
      readonly text: string;
      readonly idempotencyKey: string;
      readonly createdBy: Actor;
    },
    now: Date,
  ): Promise<AnnouncementRecord | null>;
  /** Adds a mark to how the surge was handled (once each). */
  markSurgeHandled(surgeId: string, mark: SurgeHandling, now: Date): Promise<void>;
  /** A reviewer closes the surge. */
  closeSurge(surgeId: string, now: Date): Promise<void>;
  /** Locks and returns the surge's members still waiting for a decision (status new), by id. */
  lockUndecidedMembers(surgeId: string): Promise<string[]>;
  /**
   * Locks the surge's members among `matchIds` (absent: every member still waiting, status new), in id
   * order, each with its status and whether it has its reply; ids that are not members are left out.
   */
  lockMembers(surgeId: string, matchIds?: readonly string[]): Promise<LockedMember[]>;
  /**
   * Serialises the pacing of replies on these accounts until the transaction ends (advisory locks, taken
   * in one order) and returns the latest due time already taken on each (an account without one is absent).
   */
  lockReplyPacing(accountIds: readonly string[]): Promise<Map<string, Date>>;
  /**
   * Replies per platform that count against today's cap (the day of `now` in `timeZone`): sent today,
   * and those still to be sent that were decided within the last 24 hours.
   */
  repliesCountedToday(now: Date, timeZone: string): Promise<Partial<Record<Platform, number>>>;
  /** Stores why these members were left out (the latest reason per member replaces an older one). */
  recordSurgeSkips(surgeId: string, skips: readonly SurgeSkipRow[], now: Date): Promise<void>;
  /** Forgets why these members were left out (they are answered now). */
  clearSurgeSkips(surgeId: string, matchIds: readonly string[]): Promise<void>;
  /** The authors of the surge's members that have their reply (read under the surge's lock). */
  answeredAuthors(surgeId: string): Promise<{ platform: Platform; id: string; handle: string }[]>;
  /** The surge's escalation to `target`; false when it has one already (pressed twice, or from both front-ends). */
  insertSurgeEscalation(surgeId: string, target: string, actor: Actor, now: Date): Promise<boolean>;
}

/** Runs a decision's storage steps in one PostgreSQL transaction. */
export interface DeskStore {
  transaction<T>(work: (tx: DeskTransaction) => Promise<T>): Promise<T>;
}

/** A job waiting in the outbox. */
export interface OutboxEntry extends OutboxJob {
  readonly id: number;
  readonly createdAt: Date;
  readonly attempts: number;
}

/** The outbox's relay side: the jobs decisions wrote, handed to the queues after their commit. */
export interface OutboxRepository {
  /**
   * Hands up to `limit` waiting jobs, oldest first, to `send` and deletes them when it returns; rows
   * another relay is handing on are skipped (FOR UPDATE SKIP LOCKED), so any number of relays can run.
   * When `send` throws, the rows stay for the next relay with their attempt counted, and the error is
   * rethrown. Returns how many jobs were relayed.
   */
  relay(limit: number, send: (jobs: readonly OutboxEntry[]) => Promise<void>): Promise<number>;
  /** How many jobs wait, and since when (health, metrics). */
  pending(): Promise<{ count: number; oldest: Date | null }>;
}

const jobSchema = z.strictObject({
  queue: z.string().min(1).max(100),
  jobId: z.string().min(1).max(500),
  payload: z.record(z.string(), z.unknown()),
  rerun: z.boolean().optional(),
  notBefore: z.date().optional(),
});
const memberIdsSchema = z.array(z.uuid()).max(10_000);
const skipsSchema = z.array(
  z.strictObject({
    matchId: z.uuid(),
    reason: z.string().min(1).max(100),
    params: z.record(z.string(), z.union([z.string().max(500), z.number()])).optional(),
  }),
);

function deskTransaction(tx: Tx): DeskTransaction {
  return {
    async lockMatch(matchId) {
      try {
        return (await lockMatch(tx, matchId)) as MatchStatus;
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
    async replyOf(matchId) {
      const [row] = await tx
        .select()
        .from(replies)
        .where(and(eq(replies.matchId, matchId), eq(replies.seq, 1)));
      return row === undefined ? null : toReply(row);
    },
    async repliesOf(matchId) {
      const rows = await tx
        .select()
        .from(replies)
        .where(eq(replies.matchId, matchId))
        .orderBy(asc(replies.seq));
      return rows.map(toReply);
    },
    escalatedTo: (matchId, target) => escalatedTo(tx, matchId, target),
    async insertReply(matchId, input, now) {
      return (await insertReply(tx, matchId, input, now)) ?? null;
    },
    recordDecision: (matchId, kind, actor, detail, now) =>
      insertDecision(tx, matchId, kind, actor, detail, now),
    async setStatus(matchId, status, now) {
      await applyStatus(tx, matchId, status, now);
    },
    markManualDone: (replyId, url, actor, now) =>
      finishReply(tx, replyId, { state: 'manual_done', url }, now, { actor, action: 'reply.manual_done' }),
    async requeueReply(replyId, actorInput, now) {
      const actor = parseActor(actorInput);
      const [row] = await tx
        .update(replies)
        .set({ state: 'pending', manualUrl: null, updatedAt: now })
        .where(eq(replies.id, replyId))
        .returning();
      if (row === undefined) throw new NotFoundError('reply', replyId);
      await writeAudit(tx, actor, 'reply.retry', row.matchId, { replyId, attempts: row.attempts }, now);
      return toReply(row);
    },
    async audit(actor, action, target, detail, now) {
      await writeAudit(tx, parseActor(actor), action, target, detail, now);
    },
    async caseOf(matchId) {
      const [row] = await tx
        .select({ state: matches.caseState, assignee: matches.assignee })
        .from(matches)
        .where(eq(matches.id, matchId));
      if (row === undefined) throw new NotFoundError('match', matchId);
      return { state: row.state as CaseState, assignee: row.assignee ?? null };
    },
    setCaseState: (matchId, state) => setCaseState(tx, matchId, state),
    async setAssignee(matchId, assignee) {
      await tx
        .update(matches)
        .set({ assignee: assignee === null ? null : parseActor(assignee) })
        .where(eq(matches.id, matchId));
    },
    async addCaseEvent(matchId, event, now) {
      const [row] = await tx
        .insert(caseEvents)
        .values({
          matchId,
          kind: event.kind,
          actor: parseActor(event.actor),
          text: event.text ?? '',
          detail: { ...(event.detail ?? {}) },
          at: now,
          createdAt: now,
        })
        .returning();
      return toCaseEvent(row as typeof caseEvents.$inferSelect);
    },
    async tagVoice(matchId, voice, now) {
      const actor = parseActor(voice.actor);
      // xmax = 0 only for a row this statement inserted (an update leaves the old version's xmax).
      const [row] = await tx
        .insert(caseEvents)
        .values({
          matchId,
          kind: 'voice',
          actor,
          text: voice.summary,
          detail: { department: voice.department },
          dedupeKey: `voice:${matchId}:${voice.department}`,
          at: now,
          createdAt: now,
        })
        .onConflictDoUpdate({
          target: caseEvents.dedupeKey,
          set: { actor, text: voice.summary, at: now },
        })
        .returning({ id: caseEvents.id, created: sql<boolean>`(xmax = 0)` });
      const [event] = await tx
        .select()
        .from(caseEvents)
        .where(eq(caseEvents.id, (row as { id: string }).id));
      return { event: toCaseEvent(event as typeof caseEvents.$inferSelect), created: Boolean(row?.created) };
    },
    async enqueue(jobInput, now) {
      const job = parseInput(jobSchema, jobInput, 'outbox job');
      await tx.insert(outbox).values({ ...job, createdAt: now });
    },
    async lockSurge(surgeId) {
      const [row] = await tx.select().from(surges).where(eq(surges.id, surgeId)).for('update');
      return row === undefined ? null : toSurge(row);
    },
    async insertAnnouncement(surgeId, input, now) {
      const [row] = await tx
        .insert(surgeAnnouncements)
        .values({
          surgeId,
          accountId: input.accountId,
          platform: input.platform,
          text: input.text,
          idempotencyKey: input.idempotencyKey,
          createdBy: parseActor(input.createdBy),
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning();
      return row === undefined ? null : toAnnouncement(row);
    },
    markSurgeHandled: (surgeId, mark, now) => markHandled(tx, surgeId, mark, now),
    async closeSurge(surgeId, now) {
      await tx
        .update(surges)
        .set({ status: 'closed', closedAt: now, closedBy: 'reviewer', updatedAt: now })
        .where(and(eq(surges.id, surgeId), eq(surges.status, 'open')));
    },
    async lockUndecidedMembers(surgeId) {
      const rows = await tx
        .select({ id: matches.id })
        .from(matches)
        .where(and(eq(matches.surgeId, surgeId), eq(matches.status, 'new')))
        .orderBy(asc(matches.id))
        .for('update');
      return rows.map((r) => r.id);
    },
    async lockMembers(surgeId, matchIdsInput) {
      const ids =
        matchIdsInput === undefined ? undefined : parseInput(memberIdsSchema, matchIdsInput, 'members');
      if (ids !== undefined && ids.length === 0) return [];
      const rows = await tx
        .select({ id: matches.id, status: matches.status })
        .from(matches)
        .where(
          and(
            eq(matches.surgeId, surgeId),
            ids === undefined ? eq(matches.status, 'new') : inArray(matches.id, ids),
          ),
        )
        .orderBy(asc(matches.id))
        .for('update');
      if (rows.length === 0) return [];
      const answered = await tx
        .select({ matchId: replies.matchId })
        .from(replies)
        .where(
          and(
            inArray(
              replies.matchId,
              rows.map((r) => r.id),
            ),
            eq(replies.seq, 1),
          ),
        );
      const replied = new Set(answered.map((r) => r.matchId));
      return rows.map((r) => ({ id: r.id, status: r.status as MatchStatus, replied: replied.has(r.id) }));
    },
    async lockReplyPacing(accountIdsInput) {
      const accountIds = [...new Set(parseInput(memberIdsSchema, accountIdsInput, 'accounts'))].sort();
      for (const accountId of accountIds) {
        await tx.execute(
          sql`SELECT pg_advisory_xact_lock(hashtext(${`kikimimi.reply-pacing:${accountId}`}))`,
        );
      }
      const latest = new Map<string, Date>();
      if (accountIds.length === 0) return latest;
      const rows = await tx
        .select({ accountId: replies.accountId, due: max(replies.dueAt) })
        .from(replies)
        .where(and(inArray(replies.accountId, accountIds), isNotNull(replies.dueAt)))
        .groupBy(replies.accountId);
      for (const row of rows) if (row.due !== null) latest.set(row.accountId, new Date(row.due));
      return latest;
    },
    async repliesCountedToday(now, timeZone) {
      const day = sql`date_trunc('day', ${now.toISOString()}::timestamptz AT TIME ZONE ${timeZone})`;
      const rows = await tx
        .select({ platform: matches.platform, count: sql<number>`count(*)::int` })
        .from(replies)
        .innerJoin(matches, eq(matches.id, replies.matchId))
        .where(
          sql`(${replies.state} IN ('sent', 'manual_done') AND ${replies.sentAt} >= (${day} AT TIME ZONE ${timeZone}) AND ${replies.sentAt} < ((${day} + interval '1 day') AT TIME ZONE ${timeZone}))
            OR (${replies.state} IN ('pending', 'failed', 'manual_pending') AND ${replies.createdAt} >= ${new Date(now.getTime() - 86_400_000).toISOString()}::timestamptz)`,
        )
        .groupBy(matches.platform);
      const out: Partial<Record<Platform, number>> = {};
      for (const row of rows) out[row.platform as Platform] = row.count;
      return out;
    },
    async recordSurgeSkips(surgeId, skipsInput, now) {
      const skips = parseInput(skipsSchema, skipsInput, 'skipped members');
      if (skips.length === 0) return;
      await tx
        .insert(surgeReplySkips)
        .values(
          skips.map((s) => ({
            surgeId,
            matchId: s.matchId,
            reason: s.reason,
            params: s.params ?? {},
            at: now,
          })),
        )
        .onConflictDoUpdate({
          target: [surgeReplySkips.surgeId, surgeReplySkips.matchId],
          set: {
            reason: sql`excluded.reason`,
            params: sql`excluded.params`,
            at: sql`excluded.at`,
          },
        });
    },
    async clearSurgeSkips(surgeId, matchIdsInput) {
      const ids = parseInput(memberIdsSchema, matchIdsInput, 'members');
      if (ids.length === 0) return;
      await tx
        .delete(surgeReplySkips)
        .where(and(eq(surgeReplySkips.surgeId, surgeId), inArray(surgeReplySkips.matchId, ids)));
    },
    async answeredAuthors(surgeId) {
      const rows = await tx
        .selectDistinct({
          platform: matches.platform,
          id: posts.authorId,
          handle: sql<string>`${posts.post}->'author'->>'handle'`,
        })
        .from(matches)
        .innerJoin(posts, and(eq(posts.platform, matches.platform), eq(posts.postId, matches.postId)))
        .innerJoin(replies, and(eq(replies.matchId, matches.id), eq(replies.seq, 1)))
        .where(eq(matches.surgeId, surgeId));
      return rows.map((r) => ({ platform: r.platform as Platform, id: r.id, handle: r.handle ?? '' }));
    },
    async insertSurgeEscalation(surgeId, target, actor, now) {
      const rows = await tx
        .insert(surgeEscalations)
        .values({ surgeId, target, createdBy: parseActor(actor), createdAt: now })
        .onConflictDoNothing()
        .returning({ target: surgeEscalations.target });
      return rows.length > 0;
    },
  };
}

export function createDeskStore(db: Database): DeskStore {
  return {
    async transaction(work) {
      try {
        return await db.transaction((tx) => work(deskTransaction(tx)));
      } catch (error) {
        if (pgCode(error) === FOREIGN_KEY_VIOLATION)
          throw new NotFoundError('match', 'referenced by the decision');
        throw error;
      }
    },
  };
}

type OutboxRow = typeof outbox.$inferSelect;
const toEntry = (row: OutboxRow): OutboxEntry => ({
  id: row.id,
  queue: row.queue,
  jobId: row.jobId,
  payload: row.payload,
  rerun: row.rerun,
  ...(row.notBefore === null ? {} : { notBefore: row.notBefore }),
  createdAt: row.createdAt,
  attempts: row.attempts,
});

export function createOutboxRepository(db: Database): OutboxRepository {
  return {
    async relay(limitInput, send) {
      const limit = parseInput(z.number().int().min(1).max(10_000), limitInput, 'outbox relay limit');
      let failure: unknown;
      const relayed = await db.transaction(async (tx) => {
        const rows = await tx
          .select()
          .from(outbox)
          .orderBy(asc(outbox.id))
          .limit(limit)
          .for('update', { skipLocked: true });
        if (rows.length === 0) return 0;
        const ids = rows.map((row) => row.id);
        try {
          await send(rows.map(toEntry));
        } catch (error) {
          failure = error;
          await tx
            .update(outbox)
            .set({ attempts: sql`${outbox.attempts} + 1`, lastError: clip(String(error), 500) })
            .where(inArray(outbox.id, ids));
          return 0;
        }
        await tx.delete(outbox).where(inArray(outbox.id, ids));
        return rows.length;
      });
      if (failure !== undefined) throw failure;
      return relayed;
    },

    async pending() {
      const [row] = await db
        .select({ count: sql<number>`count(*)::int`, oldest: sql<Date | null>`min(${outbox.createdAt})` })
        .from(outbox);
      const oldest = row?.oldest ?? null;
      return { count: row?.count ?? 0, oldest: oldest === null ? null : new Date(oldest) };
    },
  };
}
