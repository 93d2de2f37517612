import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { NotFoundError } from '../errors.ts';
import { DECISION_KINDS, matches, reviewDecisions, reviewMessages } from '../schema.ts';
import type { Actor, DecisionKind, ReviewDecision, ReviewGroup, ReviewMessageRef } from '../types.ts';
import {
  FOREIGN_KEY_VIOLATION,
  isUuid,
  parseActor,
  parseDate,
  parseInput,
  pgCode,
  type Tx,
  writeAudit,
} from './shared.ts';

/** The review side of a match: its one Discord message, and what reviewers decided. */
export interface ReviewRepository {
  /**
   * Claims the match's review message: the first claim is stored, every later one (any worker) gets
   * the stored claim back, with its channel and nonce, so that a match is posted at most once.
   */
  claimMessage(matchId: string, channelId: string, nonce: string): Promise<ReviewMessageRef>;
  /**
   * Takes the match's claimed review into a message shared with up to `max - 1` others waiting in the
   * same channel (claimed, not yet taken into a message, and by now neither suppressed, a surge's
   * member, waiting for the surge detector nor held back for a surge), oldest first — those most
   * likely a flood's (`surges.markLikely`) after all the others; their rows get
   * the match's nonce. Waiting reviews another call takes at the same moment are skipped, not waited
   * for. A review taken into a message before (by an earlier attempt, or with another match) gets
   * that group back, `formed: false`: it may have been sent, so it is only ever sent as it was. Null
   * when the match has no claim.
   */
  formGroup(matchId: string, max: number, now: Date): Promise<ReviewGroup | null>;
  /**
   * Undoes a group this caller formed whose message Discord refused before posting anything (a busy
   * channel): its reviews wait again, each with its own nonce (`nonces`, by match id).
   */
  releaseGroup(
    group: Pick<ReviewGroup, 'channelId' | 'nonce'>,
    nonces: Readonly<Record<string, string>>,
  ): Promise<void>;
  /** Records the id Discord gave a group's message on every review in it; their match ids. */
  setGroupMessageId(group: Pick<ReviewGroup, 'channelId' | 'nonce'>, messageId: string): Promise<string[]>;
  /** The message the match's review is in, with every review it carries; null when it has none. */
  groupOf(matchId: string): Promise<ReviewGroup | null>;
  /** Records the id Discord gave the posted message. Null when the match has no claimed message. */
  setMessageId(matchId: string, messageId: string): Promise<ReviewMessageRef | null>;
  getMessage(matchId: string): Promise<ReviewMessageRef | null>;
  /** The review message with this Discord message id (a case thread's id is its message's). */
  byMessageId(messageId: string): Promise<ReviewMessageRef | null>;
  /** Records a reviewer's decision and its audit entry (`match.<kind>`) together. */
  recordDecision(
    matchId: string,
    kind: DecisionKind,
    actor: Actor,
    detail: Readonly<Record<string, unknown>>,
    now: Date,
  ): Promise<ReviewDecision>;
  /** Oldest first. */
  decisions(matchId: string): Promise<ReviewDecision[]>;
}

/**
 * Locks a match row for the rest of the transaction (every decision about it takes this lock first)
 * and returns its status; NotFoundError when there is none.
 */
export async function lockMatch(tx: Tx, matchId: string): Promise<string> {
  const [row] = await tx
    .select({ status: matches.status })
    .from(matches)
    .where(eq(matches.id, matchId))
    .for('update');
  if (row === undefined) throw new NotFoundError('match', matchId);
  return row.status;
}

const idText = z.string().min(1).max(200);
const matchIdSchema = z.uuid({ error: 'a match id (uuid)' });
const decisionSchema = z.object({
  matchId: matchIdSchema,
  kind: z.enum(DECISION_KINDS),
  detail: z.record(z.string(), z.unknown()),
});

function toRef(row: typeof reviewMessages.$inferSelect): ReviewMessageRef {
  return {
    matchId: row.matchId,
    channelId: row.channelId,
    messageId: row.messageId,
    nonce: row.nonce,
    groupedAt: row.groupedAt,
  };
}

function toDecision(row: typeof reviewDecisions.$inferSelect): ReviewDecision {
  return {
    id: row.id,
    matchId: row.matchId,
    kind: row.kind as DecisionKind,
    actor: row.actor,
    detail: row.detail,
    at: row.at,
  };
}

/** Inserts a decision and its audit entry (`match.<kind>`) inside the caller's transaction. */
export async function insertDecision(
  tx: Tx,
  matchIdInput: string,
  kindInput: DecisionKind,
  actorInput: Actor,
  detailInput: Readonly<Record<string, unknown>>,
  nowInput: Date,
): Promise<ReviewDecision> {
  const actor = parseActor(actorInput);
  const at = parseDate(nowInput, 'decision time');
  const { matchId, kind, detail } = parseInput(
    decisionSchema,
    { matchId: matchIdInput, kind: kindInput, detail: detailInput },
    'review decision',
  );
  const [row] = await tx.insert(reviewDecisions).values({ matchId, kind, actor, detail, at }).returning();
  await writeAudit(tx, actor, `match.${kind}`, matchId, detail, at);
  return toDecision(row as typeof reviewDecisions.$inferSelect);
}

/** Whether the match was escalated to `target` before (inside the caller's transaction). */
export async function escalatedTo(tx: Tx, matchId: string, target: string): Promise<boolean> {
  const [earlier] = await tx
    .select({ id: reviewDecisions.id })
    .from(reviewDecisions)
    .where(
      and(
        eq(reviewDecisions.matchId, matchId),
        eq(reviewDecisions.kind, 'escalate'),
        sql`${reviewDecisions.detail}->>'target' = ${target}`,
      ),
    )
    .limit(1);
  return earlier !== undefined;
}

export function createReviewRepository(db: Database): ReviewRepository {
  const getMessage = async (matchId: string) => {
    if (!isUuid(matchId)) return null;
    const [row] = await db.select().from(reviewMessages).where(eq(reviewMessages.matchId, matchId));
    return row === undefined ? null : toRef(row);
  };

  /** The rows sharing a message (channel and nonce), in the order they were claimed. */
  const members = async (q: Database | Tx, channelId: string, nonce: string) =>
    q
      .select()
      .from(reviewMessages)
      .where(and(eq(reviewMessages.channelId, channelId), eq(reviewMessages.nonce, nonce)))
      .orderBy(asc(reviewMessages.createdAt), asc(reviewMessages.matchId));
  const groupFrom = (
    rows: readonly (typeof reviewMessages.$inferSelect)[],
    formed: boolean,
  ): ReviewGroup | null => {
    const first = rows[0];
    if (first === undefined) return null;
    return {
      channelId: first.channelId,
      nonce: first.nonce,
      messageId: rows.find((r) => r.messageId !== null)?.messageId ?? null,
      groupedAt: first.groupedAt,
      matchIds: rows.map((r) => r.matchId),
      formed,
    };
  };

  return {
    async formGroup(matchId, maxInput, nowInput) {
      const max = parseInput(z.number().int().min(1).max(40), maxInput, 'reviews per message');
      const now = parseDate(nowInput, 'grouping time');
      if (!isUuid(matchId)) return null;
      return db.transaction(async (tx) => {
        const [own] = await tx
          .select()
          .from(reviewMessages)
          .where(eq(reviewMessages.matchId, matchId))
          .for('update');
        if (own === undefined) return null;
        if (own.messageId !== null || own.groupedAt !== null)
          return groupFrom(await members(tx, own.channelId, own.nonce), false);
        const others =
          max === 1
            ? []
            : await tx
                .select({ matchId: reviewMessages.matchId })
                .from(reviewMessages)
                .innerJoin(matches, eq(matches.id, reviewMessages.matchId))
                .where(
                  and(
                    eq(reviewMessages.channelId, own.channelId),
                    isNull(reviewMessages.messageId),
                    isNull(reviewMessages.groupedAt),
                    sql`${reviewMessages.matchId} <> ${matchId}`,
                    isNull(matches.surgeId),
                    eq(matches.suppressed, false),
                    // Not one the detector holds back for a surge it may join.
                    eq(matches.surgePending, false),
                    sql`(${matches.surgeHoldUntil} IS NULL OR ${matches.surgeHoldUntil} <= ${now})`,
                  ),
                )
                // Those most likely a flood's (judged while a surge looked to be forming) after the
                // others: everyday matches are not kept behind an outage's first posts.
                .orderBy(asc(matches.surgeLikely), asc(reviewMessages.createdAt), asc(reviewMessages.matchId))
                .limit(max - 1)
                .for('update', { of: reviewMessages, skipLocked: true });
        await tx
          .update(reviewMessages)
          .set({ nonce: own.nonce, groupedAt: now, updatedAt: now })
          .where(inArray(reviewMessages.matchId, [matchId, ...others.map((o) => o.matchId)]));
        return groupFrom(await members(tx, own.channelId, own.nonce), true);
      });
    },

    async releaseGroup(group, nonces) {
      await db.transaction(async (tx) => {
        const rows = await tx
          .select({ matchId: reviewMessages.matchId })
          .from(reviewMessages)
          .where(
            and(
              eq(reviewMessages.channelId, group.channelId),
              eq(reviewMessages.nonce, group.nonce),
              isNull(reviewMessages.messageId),
            ),
          )
          .for('update');
        for (const { matchId } of rows) {
          const nonce = nonces[matchId];
          if (nonce === undefined) throw new Error(`no nonce given for the review of match ${matchId}`);
          await tx
            .update(reviewMessages)
            .set({ nonce, groupedAt: null, updatedAt: new Date() })
            .where(eq(reviewMessages.matchId, matchId));
        }
      });
    },

    async setGroupMessageId(group, messageIdInput) {
      const messageId = parseInput(idText, messageIdInput, 'review message id');
      const rows = await db
        .update(reviewMessages)
        .set({ messageId, updatedAt: new Date() })
        .where(and(eq(reviewMessages.channelId, group.channelId), eq(reviewMessages.nonce, group.nonce)))
        .returning({ matchId: reviewMessages.matchId });
      return rows.map((r) => r.matchId);
    },

    async groupOf(matchId) {
      const own = await getMessage(matchId);
      if (own === null) return null;
      // Waiting for a message: a group of its own until it is taken into one.
      if (own.groupedAt === null && own.messageId === null)
        return {
          channelId: own.channelId,
          nonce: own.nonce,
          messageId: null,
          groupedAt: null,
          matchIds: [matchId],
          formed: false,
        };
      return groupFrom(await members(db, own.channelId, own.nonce), false);
    },

    async byMessageId(messageId) {
      if (typeof messageId !== 'string' || messageId === '' || messageId.length > 200) return null;
      const [row] = await db.select().from(reviewMessages).where(eq(reviewMessages.messageId, messageId));
      return row === undefined ? null : toRef(row);
    },

    async claimMessage(matchIdInput, channelIdInput, nonceInput) {
      const matchId = parseInput(matchIdSchema, matchIdInput, 'review message match');
      const channelId = parseInput(idText, channelIdInput, 'review channel id');
      const nonce = parseInput(z.string().min(1).max(25), nonceInput, 'review message nonce');
      try {
        await db.insert(reviewMessages).values({ matchId, channelId, nonce }).onConflictDoNothing();
      } catch (error) {
        if (pgCode(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError('match', matchId);
        throw error;
      }
      return (await getMessage(matchId)) as ReviewMessageRef;
    },

    async setMessageId(matchId, messageIdInput) {
      const messageId = parseInput(idText, messageIdInput, 'review message id');
      if (!isUuid(matchId)) return null;
      const [row] = await db
        .update(reviewMessages)
        .set({ messageId, updatedAt: new Date() })
        .where(eq(reviewMessages.matchId, matchId))
        .returning();
      return row === undefined ? null : toRef(row);
    },

    getMessage,

    async recordDecision(matchId, kind, actor, detail, now) {
      try {
        return await db.transaction((tx) => insertDecision(tx, matchId, kind, actor, detail, now));
      } catch (error) {
        if (pgCode(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError('match', String(matchId));
        throw error;
      }
    },

    async decisions(matchId) {
      if (!isUuid(matchId)) return [];
      const rows = await db
        .select()
        .from(reviewDecisions)
        .where(eq(reviewDecisions.matchId, matchId))
        .orderBy(asc(reviewDecisions.at), asc(reviewDecisions.id));
      return rows.map(toDecision);
    },
  };
}
