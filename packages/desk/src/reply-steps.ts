import type {
  Actor,
  DeskTransaction,
  MatchRecord,
  MatchStatus,
  ReplyRecord,
  ReviewDecision,
} from '@kikimimi/db';
import {
  type Category,
  type Config,
  createSuppressionPolicy,
  measureReplyTo,
  type Platform,
  type Post,
  type SuppressionPolicy,
  type Template,
} from '@kikimimi/rules';
import { JOB_IDS } from './jobs.ts';
import type { DeskProblem } from './outcomes.ts';

/*
 * The first public reply to a matched post, as every path that sends one shares it: a single reply
 * (desk.reply) and a reply to a surge's members (surge-replies.ts) check the same things and write the
 * same rows and jobs, so the two can never answer differently.
 */

/** The longest reply text accepted before measuring it the platform's way. */
export const MAX_REPLY_INPUT = 10_000;

/**
 * The idempotency key of a reply: the platform (Mastodon) or the connector (X) sees a retry as the same
 * reply. The reply to the matched post is keyed by the match; a follow-up by the match and the post of
 * the customer it answers.
 */
export const replyKey = (matchId: string, answerPostId?: string) =>
  answerPostId === undefined
    ? `kikimimi-${matchId}`
    : `kikimimi-${matchId}-${answerPostId.replace(/[^A-Za-z0-9._-]/gu, '_').slice(0, 120)}`;

/** The reply job's payload: the first reply by its match (as before follow-ups), a follow-up by its id. */
export const replyPayload = (reply: Pick<ReplyRecord, 'id' | 'matchId' | 'seq'>) =>
  reply.seq === 1 ? { matchId: reply.matchId } : { matchId: reply.matchId, replyId: reply.id };

/**
 * Why a match may not get its first reply: the author deleted the post, someone dismissed or answered
 * it already, or it is suppressed (our own account, a repost, someone who asked not to be contacted…).
 * Null: it may. Checked before a form is taken in and again under the match's lock.
 */
export function replyRefusal(state: {
  readonly status: MatchStatus | null;
  readonly replied: boolean;
  readonly suppressed?: boolean;
}): 'post_deleted' | 'already_handled' | 'suppressed' | null {
  if (state.status === 'deleted') return 'post_deleted';
  if (state.status === 'dismissed' || state.replied) return 'already_handled';
  if (state.suppressed === true) return 'suppressed';
  return null;
}

/** The suppression policy of a configuration (as the rules engine builds it). */
export function suppressionPolicyOf(config: Config): SuppressionPolicy {
  const instance = config.platforms.mastodon.instance;
  return createSuppressionPolicy(
    config.suppression,
    instance === undefined ? {} : { mastodonInstance: instance },
  );
}

/** Why a follow-up may not be sent (texts: messages.ts, as a surge member's skip). */
export type FollowUpSuppression =
  | { readonly reason: 'own_account' | 'do_not_contact' }
  | { readonly reason: 'daily_cap'; readonly params: { readonly cap: number; readonly platform: Platform } };

/**
 * Whether a follow-up to the customer's answer (`answer`: their post) is suppressed: the rules a first
 * reply is held to — one of our own accounts, someone who asked not to be contacted, the platform's
 * daily reply cap (`countedToday`: the replies that count against it already) — except the author
 * cooldown: answering someone who wrote back is not contacting them again. Reposts and the post's age
 * do not apply to an answer in a conversation. Null: it may be sent.
 */
export function followUpSuppression(
  answer: Post,
  config: Config,
  countedToday: Partial<Record<Platform, number>>,
  now: Date,
): FollowUpSuppression | null {
  // No contact history: the cooldown never applies.
  const verdict = suppressionPolicyOf(config).check(answer, {
    now,
    contactHistory: [],
    repliesToday: countedToday,
  });
  if (verdict.reasons.includes('own_account')) return { reason: 'own_account' };
  if (verdict.reasons.includes('do_not_contact')) return { reason: 'do_not_contact' };
  if (verdict.reasons.includes('daily_cap_reached'))
    return {
      reason: 'daily_cap',
      params: { cap: config.suppression.dailyReplyCap[answer.platform] ?? 0, platform: answer.platform },
    };
  return null;
}

/** Checks a reply's text the platform's way (with the mention a Mastodon reply starts with). */
export function checkReplyText(
  match: Pick<MatchRecord, 'platform' | 'post'>,
  text: string,
  config: Pick<Config, 'platforms'>,
): DeskProblem | null {
  if (text === '') return { field: 'text', code: 'empty' };
  if (text.length > MAX_REPLY_INPUT)
    return { field: 'text', code: 'input_too_long', params: { max: MAX_REPLY_INPUT } };
  const length = measureReplyTo(
    text,
    { platform: match.platform, authorHandle: match.post.author.handle },
    { maxCharacters: config.platforms.mastodon.maxCharacters },
  );
  if (length.ok) return null;
  const platform = match.platform === 'x' ? 'X' : match.platform === 'mastodon' ? 'Mastodon' : match.platform;
  return length.length > length.limit
    ? { field: 'text', code: 'too_long', params: { length: length.length, limit: length.limit, platform } }
    : { field: 'text', code: 'unpostable', params: { platform } };
}

/** A first reply decided: who, from which account, what, and (paced) not before when. */
export interface FirstReply {
  readonly accountId: string;
  readonly text: string;
  readonly category: Category;
  readonly template?: Template | undefined;
  readonly actor: Actor;
  /** Not sent before this time (a paced reply to a surge's member). */
  readonly dueAt?: Date | undefined;
  /** More for the decision's detail (the surge it was decided from). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/**
 * Writes a match's first reply inside the caller's transaction, which holds the match's lock and has
 * checked `replyRefusal`: the reply row (its idempotency key), the decision with its audit entry, the
 * status, the reply job (delayed to `dueAt`) and the review message's refresh. Null when the match has
 * its reply already.
 */
export async function writeFirstReply(
  tx: DeskTransaction,
  matchId: string,
  reply: FirstReply,
  now: Date,
): Promise<{ decision: ReviewDecision; reply: ReplyRecord } | null> {
  const row = await tx.insertReply(
    matchId,
    {
      accountId: reply.accountId,
      text: reply.text,
      idempotencyKey: replyKey(matchId),
      actor: reply.actor,
      ...(reply.dueAt === undefined ? {} : { dueAt: reply.dueAt }),
    },
    now,
  );
  if (row === null) return null;
  const decision = await tx.recordDecision(
    matchId,
    'reply',
    reply.actor,
    {
      category: reply.category,
      ...(reply.template ? { templateId: reply.template.id } : {}),
      text: reply.text,
      ...reply.detail,
    },
    now,
  );
  await tx.setStatus(matchId, 'replied', now);
  await tx.enqueue(
    {
      queue: 'reply',
      jobId: JOB_IDS.reply(matchId, row),
      payload: replyPayload(row),
      ...(reply.dueAt !== undefined && reply.dueAt > now ? { notBefore: reply.dueAt } : {}),
    },
    now,
  );
  await tx.enqueue(
    { queue: 'refresh', jobId: JOB_IDS.refresh(matchId, decision.id), payload: { matchId } },
    now,
  );
  return { decision, reply: row };
}
