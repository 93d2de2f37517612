import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { NotFoundError } from '../errors.ts';
import { DECISION_KINDS, matches, replies, reviewDecisions, reviewMessages } from '../schema.ts';
import type { Actor, DecisionKind, ReviewDecision, ReviewMessageRef } from '../types.ts';
import { applyStatus } from './matches.ts';
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
  /** Records the id Discord gave the posted message. Null when the match has no claimed message. */
  setMessageId(matchId: string, messageId: string): Promise<ReviewMessageRef | null>;
  getMessage(matchId: string): Promise<ReviewMessageRef | null>;
  /** Records a reviewer's decision and its audit entry (`match.<kind>`) together. */
  recordDecision(
    matchId: string,
    kind: DecisionKind,
    actor: Actor,
    detail: Readonly<Record<string, unknown>>,
    now: Date,
  ): Promise<ReviewDecision>;
  /**
   * A dismissal or an escalation, recorded only while the match is still open for it and together
   * with its status, with the match row locked, so two reviewers acting at once (Discord and the
   * browser, two browsers) record it once: a dismissal is refused when the match was dismissed or
   * has a reply; an escalation when it was already escalated to the same target (`detail.target`).
   * A dismissal sets the status `dismissed`; an escalation sets `escalated` when the match was new.
   */
  decide(
    matchId: string,
    kind: 'dismiss' | 'escalate',
    actor: Actor,
    detail: Readonly<Record<string, unknown>>,
    now: Date,
  ): Promise<
    | { readonly ok: true; readonly decision: ReviewDecision }
    | { readonly ok: false; readonly reason: 'already_handled' | 'already_escalated' }
  >;
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
  return { matchId: row.matchId, channelId: row.channelId, messageId: row.messageId, nonce: row.nonce };
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

export function createReviewRepository(db: Database): ReviewRepository {
  const getMessage = async (matchId: string) => {
    if (!isUuid(matchId)) return null;
    const [row] = await db.select().from(reviewMessages).where(eq(reviewMessages.matchId, matchId));
    return row === undefined ? null : toRef(row);
  };

  return {
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

    async recordDecision(matchIdInput, kindInput, actorInput, detailInput, nowInput) {
      const actor = parseActor(actorInput);
      const at = parseDate(nowInput, 'decision time');
      const { matchId, kind, detail } = parseInput(
        decisionSchema,
        { matchId: matchIdInput, kind: kindInput, detail: detailInput },
        'review decision',
      );
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .insert(reviewDecisions)
            .values({ matchId, kind, actor, detail, at })
            .returning();
          await writeAudit(tx, actor, `match.${kind}`, matchId, detail, at);
          return toDecision(row as typeof reviewDecisions.$inferSelect);
        });
      } catch (error) {
        if (pgCode(error) === FOREIGN_KEY_VIOLATION) throw new NotFoundError('match', matchId);
        throw error;
      }
    },

    async decide(matchIdInput, kind, actorInput, detailInput, nowInput) {
      const actor = parseActor(actorInput);
      const at = parseDate(nowInput, 'decision time');
      const { matchId, detail } = parseInput(
        decisionSchema,
        { matchId: matchIdInput, kind, detail: detailInput },
        'review decision',
      );
      if (kind !== 'dismiss' && kind !== 'escalate')
        throw new TypeError(`decide: not a dismissal or escalation: ${kind}`);
      return db.transaction(async (tx) => {
        const status = await lockMatch(tx, matchId);
        if (kind === 'dismiss') {
          const [reply] = await tx
            .select({ id: replies.id })
            .from(replies)
            .where(eq(replies.matchId, matchId));
          if (status === 'dismissed' || reply !== undefined)
            return { ok: false, reason: 'already_handled' } as const;
        } else {
          const target = String(detail.target ?? '');
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
          if (earlier !== undefined) return { ok: false, reason: 'already_escalated' } as const;
        }
        const [row] = await tx
          .insert(reviewDecisions)
          .values({ matchId, kind, actor, detail, at })
          .returning();
        await writeAudit(tx, actor, `match.${kind}`, matchId, detail, at);
        if (kind === 'dismiss') await applyStatus(tx, matchId, 'dismissed', at);
        else if (status === 'new') await applyStatus(tx, matchId, 'escalated', at);
        return { ok: true, decision: toDecision(row as typeof reviewDecisions.$inferSelect) } as const;
      });
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
