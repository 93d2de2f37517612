import {
  type Actor,
  ConflictError,
  type DiscordSettings,
  escalateJobSchema,
  jobId,
  type MatchRecord,
  QUEUES,
  type QueueName,
  type ReplyRecord,
  type ReviewDecision,
  refreshJobSchema,
  replyJobSchema,
} from '@kikimimi/db';
import { type Category, type Config, categorySchema, measureReply, type Template } from '@kikimimi/rules';
import type { Lang, WebDeps } from '../../context.ts';
import { t } from '../../i18n.ts';

/*
 * The reviewer's decisions, taken from the console exactly as the Discord interactions take them
 * (apps/worker/src/discord/interactions.ts): the same repository calls in the same order, the same
 * idempotency key for the one reply of a match, then the jobs that make the worker send the reply and
 * bring the Discord review message in step. Both sides read the same tables, so whichever acts first
 * wins and the other sees "already handled".
 */

/** One thing wrong with the input, next to its field. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export type ActionOutcome =
  | {
      readonly ok: true;
      readonly kind: 'replied' | 'escalated' | 'dismissed' | 'manual_done';
      readonly match: MatchRecord;
      readonly decision: ReviewDecision;
      readonly reply?: ReplyRecord | undefined;
      /** The decision is stored but a job could not be queued (Redis down). */
      readonly queueFailed: boolean;
    }
  | { readonly ok: false; readonly status: 404; readonly error: 'not_found'; readonly message: string }
  | {
      readonly ok: false;
      readonly status: 409;
      readonly error: 'already_handled' | 'suppressed' | 'no_account';
      readonly message: string;
    }
  | {
      readonly ok: false;
      readonly status: 422;
      readonly error: 'invalid';
      readonly message: string;
      readonly problems: readonly FieldProblem[];
    };

type Failure = Extract<ActionOutcome, { ok: false }>;

/** The idempotency key of a match's one reply: the same one Discord uses, so both paths collide. */
export const replyKey = (matchId: string) => `kikimimi-${matchId}`;

/** The longest reply text accepted before measuring (the repository's own bound). */
export const MAX_REPLY_INPUT = 10_000;

const notFound = (lang: Lang): Failure => ({
  ok: false,
  status: 404,
  error: 'not_found',
  message: t(lang, 'inbox.error.notFound'),
});
const conflict = (
  lang: Lang,
  error: 'already_handled' | 'suppressed' | 'no_account',
  key: string,
  vars = {},
): Failure => ({
  ok: false,
  status: 409,
  error,
  message: t(lang, key, vars),
});
const invalid = (lang: Lang, problems: FieldProblem[]): Failure => ({
  ok: false,
  status: 422,
  error: 'invalid',
  message: t(lang, 'inbox.error.formTitle'),
  problems,
});

/** A match is finished for reply and dismissal once it has a reply or was dismissed (as in Discord). */
async function finished(deps: WebDeps, match: MatchRecord): Promise<ReplyRecord | 'dismissed' | null> {
  const reply = await deps.repos.replies.forMatch(match.id);
  if (reply !== null) return reply;
  return match.status === 'dismissed' ? 'dismissed' : null;
}

/**
 * Queues a job; a queue that is down does not undo the decision (it is stored, and the worker's
 * review-message refresh and the reply job are idempotent): the failure is logged and reported.
 */
async function enqueue(
  deps: WebDeps,
  queue: QueueName,
  data: Record<string, unknown>,
  id: string,
): Promise<boolean> {
  try {
    await deps.enqueue(queue, data, { jobId: id });
    return true;
  } catch (error) {
    deps.log.error({ err: error, queue, jobId: id }, 'decision stored but its job could not be queued');
    return false;
  }
}

/** The refresh of the Discord review message after a decision; one job per decision. */
const refresh = (deps: WebDeps, matchId: string, decisionId: string) =>
  enqueue(
    deps,
    QUEUES.refresh,
    refreshJobSchema.parse({ matchId }),
    jobId('refresh', `${matchId}-${decisionId}`),
  );

/** The text as the platform will count it: Mastodon replies get "@handle " in front (the connector adds it). */
export function measured(match: MatchRecord, text: string, config: Config) {
  const sent = match.platform === 'mastodon' ? `@${match.post.author.handle} ${text}` : text;
  return measureReply(sent, match.platform, { maxCharacters: config.platforms.mastodon.maxCharacters });
}

export interface ReplyInput {
  readonly text?: unknown;
  readonly category?: unknown;
  readonly templateId?: unknown;
}

/** Reply to a match: checks, then the one reply row, the decision, the status and the jobs. */
export async function replyTo(
  deps: WebDeps,
  lang: Lang,
  actor: Actor,
  matchId: string,
  input: ReplyInput,
): Promise<ActionOutcome> {
  const { repos } = deps;
  const match = await repos.matches.get(matchId);
  if (match === null) return notFound(lang);
  const done = await finished(deps, match);
  if (done !== null) {
    // A reply decided earlier whose job was lost (Redis down) goes out on the next attempt: the job
    // id and the reply's state make this a no-op otherwise.
    if (done !== 'dismissed' && (done.state === 'pending' || done.state === 'failed')) {
      await enqueue(deps, QUEUES.reply, replyJobSchema.parse({ matchId }), jobId('reply', matchId));
    }
    return conflict(lang, 'already_handled', 'inbox.error.alreadyHandled');
  }
  if (match.suppressed) return conflict(lang, 'suppressed', 'inbox.actions.suppressedNoReply');

  const { config } = await repos.config.current();
  const problems: FieldProblem[] = [];
  let template: Template | undefined;
  if (input.templateId !== undefined && input.templateId !== null && input.templateId !== '') {
    template = config.templates.find((tpl) => tpl.id === input.templateId);
    if (template === undefined)
      problems.push({ path: 'templateId', message: t(lang, 'inbox.error.unknownTemplate') });
  }
  let category: Category = template?.category ?? match.decision.category ?? 'custom';
  if (input.category !== undefined && input.category !== null && input.category !== '') {
    const parsed = categorySchema.safeParse(input.category);
    if (parsed.success) category = parsed.data;
    else problems.push({ path: 'category', message: t(lang, 'inbox.error.unknownCategory') });
  }
  const text = typeof input.text === 'string' ? input.text.replace(/\r\n?/gu, '\n').trim() : '';
  if (text === '') {
    problems.push({ path: 'text', message: t(lang, 'inbox.error.emptyReply') });
  } else if (text.length > MAX_REPLY_INPUT) {
    problems.push({ path: 'text', message: t(lang, 'inbox.error.textTooLong', { max: MAX_REPLY_INPUT }) });
  } else {
    const length = measured(match, text, config);
    if (!length.ok) {
      const platform = match.platform === 'x' ? 'X' : 'Mastodon';
      problems.push({
        path: 'text',
        message:
          length.length > length.limit
            ? t(lang, 'inbox.error.tooLong', { length: length.length, limit: length.limit, platform })
            : t(lang, 'inbox.error.invalidText', { platform }),
      });
    }
  }
  if (problems.length > 0) return invalid(lang, problems);

  const account = match.accountId === null ? null : await repos.accounts.get(match.accountId);
  if (account === null) return conflict(lang, 'no_account', 'inbox.actions.noAccount');

  const now = deps.now();
  let begun: Awaited<ReturnType<typeof repos.replies.begin>>;
  try {
    begun = await repos.replies.begin(
      match.id,
      { accountId: account.id, text, idempotencyKey: replyKey(match.id), actor },
      now,
    );
  } catch (error) {
    // Dismissed by someone else since the check above.
    if (error instanceof ConflictError)
      return conflict(lang, 'already_handled', 'inbox.error.alreadyHandled');
    throw error;
  }
  const { created, reply } = begun;
  if (!created) return conflict(lang, 'already_handled', 'inbox.error.alreadyHandled');
  const decision = await repos.reviews.recordDecision(
    match.id,
    'reply',
    actor,
    { category, ...(template ? { templateId: template.id } : {}), text },
    now,
  );
  const updated = (await repos.matches.setStatus(match.id, 'replied', now)) ?? match;
  const queued = [
    await enqueue(deps, QUEUES.reply, replyJobSchema.parse({ matchId: match.id }), jobId('reply', match.id)),
    await refresh(deps, match.id, decision.id),
  ];
  return { ok: true, kind: 'replied', match: updated, decision, reply, queueFailed: queued.includes(false) };
}

/**
 * Where a match may be escalated: the routes of its escalation decisions and of the configured rules;
 * with Discord configured (any channel bound) only those with a channel (as the Discord button offers),
 * without it every route (the escalation is then only recorded).
 */
export function escalationTargets(
  match: MatchRecord,
  config: Config,
  settings: DiscordSettings,
): { targets: string[]; discord: boolean } {
  const routes = new Set<string>([
    ...match.decision.escalations.flatMap((e) => (e.route ? [e.route] : [])),
    ...config.escalation.flatMap((rule) => (rule.actions.route ? [rule.actions.route] : [])),
  ]);
  const discord = Object.keys(settings.channels).length > 0;
  const targets = [...routes].filter((route) => !discord || settings.channels[route] !== undefined).sort();
  return { targets, discord };
}

export async function escalate(
  deps: WebDeps,
  lang: Lang,
  actor: Actor,
  matchId: string,
  input: { readonly target?: unknown },
): Promise<ActionOutcome> {
  const { repos } = deps;
  const match = await repos.matches.get(matchId);
  if (match === null) return notFound(lang);
  const [{ config }, settings] = await Promise.all([repos.config.current(), repos.discord.get()]);
  const { targets, discord } = escalationTargets(match, config, settings);
  const target = typeof input.target === 'string' ? input.target.trim() : '';
  if (!targets.includes(target)) {
    return invalid(lang, [
      {
        path: 'target',
        message: t(lang, 'inbox.error.unknownTarget', {
          targets: targets.length > 0 ? targets.join(', ') : t(lang, 'inbox.error.noTargetsShort'),
        }),
      },
    ]);
  }
  const decided = await repos.reviews.decide(match.id, 'escalate', actor, { target }, deps.now());
  if (!decided.ok) return conflict(lang, 'already_handled', 'inbox.error.alreadyEscalated', { target });
  const { decision } = decided;
  const updated = (await repos.matches.get(match.id)) ?? match;
  // The worker posts into the escalation channel and then refreshes the review message itself.
  const queued = discord
    ? await enqueue(
        deps,
        QUEUES.escalate,
        escalateJobSchema.parse({ matchId: match.id, target, actorName: actor.name || actor.id }),
        jobId('escalate', `${match.id}-${target}`),
      )
    : await refresh(deps, match.id, decision.id);
  return { ok: true, kind: 'escalated', match: updated, decision, queueFailed: !queued };
}

export async function dismiss(
  deps: WebDeps,
  lang: Lang,
  actor: Actor,
  matchId: string,
  input: { readonly reason?: unknown },
): Promise<ActionOutcome> {
  const { repos } = deps;
  const match = await repos.matches.get(matchId);
  if (match === null) return notFound(lang);
  const reason = typeof input.reason === 'string' ? input.reason.replace(/\s+/gu, ' ').trim() : '';
  if (reason.length > 200)
    return invalid(lang, [{ path: 'reason', message: t(lang, 'inbox.error.reasonTooLong') }]);
  const decided = await repos.reviews.decide(match.id, 'dismiss', actor, { reason }, deps.now());
  if (!decided.ok) return conflict(lang, 'already_handled', 'inbox.error.alreadyHandled');
  const { decision } = decided;
  const updated = (await repos.matches.get(match.id)) ?? match;
  const queued = await refresh(deps, match.id, decision.id);
  return { ok: true, kind: 'dismissed', match: updated, decision, queueFailed: !queued };
}

const HTTP_URL = /^https?:\/\/[^\s]+$/iu;

/** The reviewer posted a refused reply by hand. */
export async function manualDone(
  deps: WebDeps,
  lang: Lang,
  actor: Actor,
  matchId: string,
  input: { readonly url?: unknown },
): Promise<ActionOutcome> {
  const { repos } = deps;
  const match = await repos.matches.get(matchId);
  if (match === null) return notFound(lang);
  const url = typeof input.url === 'string' ? input.url.trim() : '';
  if (url !== '' && (!HTTP_URL.test(url) || url.length > 2000 || URL.parse(url) === null)) {
    return invalid(lang, [{ path: 'url', message: t(lang, 'inbox.error.badUrl') }]);
  }
  const reply = await repos.replies.forMatch(match.id);
  if (reply === null || (reply.state !== 'manual_pending' && reply.state !== 'failed')) {
    return conflict(lang, 'already_handled', 'inbox.error.notManual');
  }
  const now = deps.now();
  const done = await repos.replies.markManualDone(reply.id, { url: url === '' ? null : url }, actor, now);
  const decision = await repos.reviews.recordDecision(
    match.id,
    'manual_reply',
    actor,
    url === '' ? {} : { url },
    now,
  );
  const updated = (await repos.matches.get(match.id)) ?? match;
  const queued = await refresh(deps, match.id, decision.id);
  return { ok: true, kind: 'manual_done', match: updated, decision, reply: done, queueFailed: !queued };
}
