import type {
  Actor,
  CaseEvent,
  DeskTransaction,
  DiscordSettings,
  MatchRecord,
  ReplyRecord,
  Repositories,
  ReviewDecision,
} from '@kikimimi/db';
import {
  type Category,
  type Config,
  categorySchema,
  organizationTimeZone,
  pickTemplate,
  platformSchema,
  renderTemplate,
  type Template,
} from '@kikimimi/rules';
import { JOB_IDS, type JobName, type JobPayload } from './jobs.ts';
import type { DeskFailure, DeskOutcome, DeskProblem, DeskSuccess } from './outcomes.ts';
import {
  checkReplyText,
  followUpSuppression,
  MAX_REPLY_INPUT,
  replyKey,
  replyPayload,
  replyRefusal,
  writeFirstReply,
} from './reply-steps.ts';

export { checkReplyText, MAX_REPLY_INPUT, replyKey };

/**
 * Who takes a decision, with what makes them a reviewer: a console user's role (editors and admins
 * decide, viewers read) or a Discord member's roles (one of the reviewer roles bound in the console).
 */
export type DeskActor =
  | (Actor & { readonly kind: 'web'; readonly role: 'admin' | 'editor' | 'viewer' })
  | (Actor & { readonly kind: 'discord'; readonly roleIds: readonly string[] })
  | (Actor & { readonly kind: 'system' });

export interface ReplyInput {
  readonly text?: unknown;
  readonly category?: unknown;
  readonly templateId?: unknown;
}

/** The review desk: the one implementation of every decision on a match, for Discord and the console. */
export interface Desk {
  /**
   * Null when the actor may decide on matches; otherwise the refusal, audited (`match.refused`): what a
   * front-end asks before it opens a form (a Discord modal), so that a non-reviewer sees no form at all.
   */
  authorize(actor: DeskActor, matchId: string, attempted: string): Promise<DeskFailure | null>;
  reply(actor: DeskActor, matchId: string, input: ReplyInput): Promise<DeskOutcome>;
  escalate(actor: DeskActor, matchId: string, input: { readonly target?: unknown }): Promise<DeskOutcome>;
  dismiss(actor: DeskActor, matchId: string, input: { readonly reason?: unknown }): Promise<DeskOutcome>;
  /** The reviewer posted a refused (or failed) reply by hand. */
  markRepliedByHand(
    actor: DeskActor,
    matchId: string,
    input: { readonly url?: unknown },
  ): Promise<DeskOutcome>;
  /** Sends a failed reply again (the same text, the same idempotency key: never a second public reply). */
  retryReply(actor: DeskActor, matchId: string, input?: { readonly replyId?: unknown }): Promise<DeskOutcome>;
  /**
   * Answers what the customer said back (`answerId`: a case event of kind answer; absent: their latest
   * answer) with another public reply — once per answer, whoever presses the button twice. Not a new
   * contact: the author cooldown does not apply to someone who wrote back; the other suppression rules
   * do (our own accounts, do-not-contact, the daily reply cap: `follow_up_suppressed`).
   */
  followUp(
    actor: DeskActor,
    matchId: string,
    input: ReplyInput & { readonly answerId?: unknown },
  ): Promise<DeskOutcome>;
  /** An internal note on the case (never posted publicly). */
  addNote(actor: DeskActor, matchId: string, input: { readonly text?: unknown }): Promise<DeskOutcome>;
  /** Gives the case to a teammate (`assignee` null: to nobody); "take it" is assigning oneself. */
  assign(
    actor: DeskActor,
    matchId: string,
    input: { readonly assignee?: Actor | null | undefined },
  ): Promise<DeskOutcome>;
  /**
   * Links the match's author with their account on another platform (`handle` on `platform`, an author
   * kikimimi has seen): one customer in the case history from then on. Audited (`person.link`).
   */
  linkIdentity(
    actor: DeskActor,
    matchId: string,
    input: { readonly platform?: unknown; readonly handle?: unknown },
  ): Promise<DeskOutcome>;
  /** Moves the case by hand: open, waiting (for the customer) or resolved. */
  setCaseState(actor: DeskActor, matchId: string, input: { readonly state?: unknown }): Promise<DeskOutcome>;
  /**
   * Tags the case as a customer voice (ご意見) for a department, with an optional summary: shared in the
   * digest. Once per department; tagging again replaces the summary.
   */
  tagVoice(
    actor: DeskActor,
    matchId: string,
    input: { readonly department?: unknown; readonly summary?: unknown },
  ): Promise<DeskOutcome>;
}

export interface DeskDeps {
  readonly repos: Pick<
    Repositories,
    'matches' | 'replies' | 'accounts' | 'config' | 'discord' | 'desk' | 'audit' | 'cases' | 'people'
  >;
  readonly now: () => Date;
  /** Called after a decision committed jobs to the outbox (the relay's nudge). */
  readonly afterCommit?: () => void;
}

/** The longest dismissal reason. */
export const MAX_REASON = 200;
const MAX_URL = 2_000;

/** The longest internal note. */
export const MAX_NOTE = 4_000;
/** The longest department name and voice summary. */
export const MAX_DEPARTMENT = 100;
export const MAX_VOICE_SUMMARY = 1_000;
const CASE_STATES = ['open', 'waiting', 'resolved'] as const;

const fail = <C extends DeskFailure['code']>(code: C, extra: object = {}): DeskFailure =>
  ({ ok: false, code, ...extra }) as DeskFailure;
const invalid = (problems: DeskProblem[]): DeskFailure => ({ ok: false, code: 'invalid', problems });

/** The actor as stored with a decision (who, not their permissions). */
const stored = (actor: DeskActor): Actor => ({ kind: actor.kind, id: actor.id, name: actor.name });

/** Whether the actor may decide: a console editor or admin, a Discord member with a reviewer role, kikimimi. */
export function mayDecide(actor: DeskActor, settings: Pick<DiscordSettings, 'reviewerRoleIds'>): boolean {
  switch (actor.kind) {
    case 'web':
      return actor.role === 'admin' || actor.role === 'editor';
    case 'discord':
      return actor.roleIds.some((role) => settings.reviewerRoleIds.includes(role));
    case 'system':
      return true;
  }
}

/**
 * Where a match may be escalated: the routes of its escalation decisions and of the configured rules,
 * sorted; with Discord configured (any channel bound) only those with a channel, without it every route
 * (the escalation is then only recorded).
 */
export function escalationTargets(
  match: { readonly decision: { readonly escalations: readonly { readonly route?: string | undefined }[] } },
  config: Pick<Config, 'escalation'>,
  settings: Pick<DiscordSettings, 'channels'>,
): { targets: string[]; discord: boolean } {
  const routes = new Set<string>([
    ...match.decision.escalations.flatMap((e) => (e.route ? [e.route] : [])),
    ...config.escalation.flatMap((rule) => (rule.actions.route ? [rule.actions.route] : [])),
  ]);
  const discord = Object.keys(settings.channels).length > 0;
  const targets = [...routes].filter((route) => !discord || settings.channels[route] !== undefined).sort();
  return { targets, discord };
}

/** The prepared reply for a category: the template that fits the match, rendered (empty without one). */
export function replyDraft(
  match: Pick<MatchRecord, 'platform' | 'post' | 'decision'>,
  category: Category,
  config: Config,
): { template: Template | undefined; text: string } {
  const watchId = match.decision.watches[0] ?? '';
  const template = pickTemplate(config.templates, {
    platform: match.platform,
    category,
    watchId,
    language: match.post.lang,
  });
  const watch = config.watches.find((w) => w.id === watchId);
  const text = template
    ? renderTemplate(template, {
        post: match.post,
        watch: { id: watch?.id ?? watchId, name: watch?.name },
        variables: config.variables,
      })
    : '';
  return { template, text };
}

/** What a decision's transaction wrote. */
interface Done {
  readonly decision: ReviewDecision | null;
  readonly reply?: ReplyRecord | undefined;
  readonly event?: CaseEvent | undefined;
}

/** The reply form's fields checked: template, category and the text the platform's way. */
function checkReplyInput(
  match: Pick<MatchRecord, 'platform' | 'post' | 'decision'>,
  input: ReplyInput,
  config: Config,
): DeskFailure | { template: Template | undefined; category: Category; text: string } {
  const problems: DeskProblem[] = [];
  let template: Template | undefined;
  if (present(input.templateId)) {
    template = config.templates.find((tpl) => tpl.id === input.templateId);
    if (template === undefined) problems.push({ field: 'templateId', code: 'unknown_template' });
  }
  let category: Category = template?.category ?? match.decision.category ?? 'custom';
  if (present(input.category)) {
    const parsed = categorySchema.safeParse(input.category);
    if (parsed.success) category = parsed.data;
    else problems.push({ field: 'category', code: 'unknown_category' });
  }
  const text = typeof input.text === 'string' ? input.text.replace(/\r\n?/gu, '\n').trim() : '';
  const textProblem = checkReplyText(match, text, config);
  if (textProblem !== null) problems.push(textProblem);
  return problems.length > 0 ? invalid(problems) : { template, category, text };
}

const present = (value: unknown) => value !== undefined && value !== null && value !== '';
const HTTP_URL = /^https?:\/\/\S+$/iu;

export function createDesk(deps: DeskDeps): Desk {
  const { repos } = deps;

  /** Refuses (and audits) an actor who is not a reviewer. */
  const authorize = async (
    actor: DeskActor,
    matchId: string,
    attempted: string,
  ): Promise<DeskFailure | null> => {
    const settings = actor.kind === 'discord' ? await repos.discord.get() : { reviewerRoleIds: [] };
    if (mayDecide(actor, settings)) return null;
    await repos.audit.record(stored(actor), 'match.refused', matchId, {
      attempted,
      ...(actor.kind === 'discord' ? { roles: [...actor.roleIds] } : {}),
      ...(actor.kind === 'web' ? { role: actor.role } : {}),
    });
    return fail('forbidden');
  };

  /** The jobs of a decision, into the outbox of the same transaction. */
  const job = <N extends JobName>(
    tx: DeskTransaction,
    name: N,
    payload: JobPayload<N>,
    jobId: string,
    options: { rerun?: boolean } = {},
  ) => tx.enqueue({ queue: name, jobId, payload, ...options }, deps.now());

  /**
   * Runs a decision's transaction; `work` returns a failure (nothing written: the transaction rolls
   * back) or what was decided. Afterwards the match is read again as it now is.
   */
  const decide = async (
    matchId: string,
    kind: DeskSuccess['kind'],
    work: (tx: DeskTransaction) => Promise<DeskFailure | Done>,
  ): Promise<DeskOutcome> => {
    const rollback = Symbol('rollback');
    let refused: DeskFailure | undefined;
    let done: Done | undefined;
    try {
      await repos.desk.transaction(async (tx) => {
        if ((await tx.lockMatch(matchId)) === null) {
          refused = fail('not_found');
          throw rollback;
        }
        const result = await work(tx);
        if ('ok' in result) {
          refused = result;
          throw rollback;
        }
        done = result;
      });
    } catch (error) {
      if (error !== rollback) throw error;
    }
    if (refused !== undefined) return refused;
    deps.afterCommit?.();
    const match = await repos.matches.get(matchId);
    if (match === null || done === undefined) return fail('not_found');
    return { ok: true, kind, match, decision: done.decision, reply: done.reply, event: done.event };
  };

  /** The match, or why there is nothing to decide about. */
  const load = async (actor: DeskActor, matchId: string, attempted: string) => {
    const refused = await authorize(actor, matchId, attempted);
    if (refused !== null) return refused;
    const match = await repos.matches.get(matchId);
    return match ?? fail('not_found');
  };

  return {
    authorize,

    async reply(actor, matchId, input) {
      const match = await load(actor, matchId, 'reply');
      if ('ok' in match) return match;
      const refusal = replyRefusal({
        status: match.status,
        replied: (await repos.replies.forMatch(match.id)) !== null,
        suppressed: match.suppressed,
      });
      if (refusal !== null) return fail(refusal);

      const { config } = await repos.config.current();
      const checked = checkReplyInput(match, input, config);
      if ('ok' in checked) return checked;
      const { template, category, text } = checked;

      const account = match.accountId === null ? null : await repos.accounts.get(match.accountId);
      if (account === null) return fail('no_account');

      return decide(match.id, 'replied', async (tx) => {
        const now = deps.now();
        // The deletion (or another reviewer) may have come while the reviewer was writing.
        const status = await tx.lockMatch(match.id);
        const late = replyRefusal({ status, replied: (await tx.replyOf(match.id)) !== null });
        if (late !== null) return fail(late);
        const written = await writeFirstReply(
          tx,
          match.id,
          { accountId: account.id, text, category, template, actor: stored(actor) },
          now,
        );
        return written ?? fail('already_handled');
      });
    },

    async escalate(actor, matchId, input) {
      const match = await load(actor, matchId, 'escalate');
      if ('ok' in match) return match;
      const [{ config }, settings] = await Promise.all([repos.config.current(), repos.discord.get()]);
      const { targets } = escalationTargets(match, config, settings);
      const target = typeof input.target === 'string' ? input.target.trim() : '';
      if (!targets.includes(target)) {
        return invalid([
          { field: 'target', code: 'unknown_target', params: { targets: targets.join(', ') } },
        ]);
      }
      return decide(match.id, 'escalated', async (tx) => {
        const now = deps.now();
        // One escalation per match and target, whoever clicks it and from where: no second ping.
        if (await tx.escalatedTo(match.id, target)) return fail('already_escalated', { target });
        const status = await tx.lockMatch(match.id);
        const decision = await tx.recordDecision(match.id, 'escalate', stored(actor), { target }, now);
        if (status === 'new') await tx.setStatus(match.id, 'escalated', now);
        // The worker posts into the target's channel (when Discord is set up), then refreshes the review message.
        await job(
          tx,
          'escalate',
          { matchId: match.id, target, actorName: actor.name || actor.id },
          JOB_IDS.escalate(match.id, target),
        );
        return { decision };
      });
    },

    async dismiss(actor, matchId, input) {
      const match = await load(actor, matchId, 'dismiss');
      if ('ok' in match) return match;
      const reason = typeof input.reason === 'string' ? input.reason.replace(/\s+/gu, ' ').trim() : '';
      if (reason.length > MAX_REASON)
        return invalid([{ field: 'reason', code: 'input_too_long', params: { max: MAX_REASON } }]);
      return decide(match.id, 'dismissed', async (tx) => {
        const now = deps.now();
        const status = await tx.lockMatch(match.id);
        // A closed deleted match stays as the author left it.
        if (status === 'deleted') return fail('post_deleted');
        if (status === 'dismissed' || (await tx.replyOf(match.id)) !== null) return fail('already_handled');
        const decision = await tx.recordDecision(match.id, 'dismiss', stored(actor), { reason }, now);
        await tx.setStatus(match.id, 'dismissed', now);
        await job(tx, 'refresh', { matchId: match.id }, JOB_IDS.refresh(match.id, decision.id));
        return { decision };
      });
    },

    async markRepliedByHand(actor, matchId, input) {
      const match = await load(actor, matchId, 'manual_reply');
      if ('ok' in match) return match;
      const url = typeof input.url === 'string' ? input.url.trim() : '';
      if (url !== '' && (!HTTP_URL.test(url) || url.length > MAX_URL || URL.parse(url) === null)) {
        return invalid([{ field: 'url', code: 'bad_url' }]);
      }
      return decide(match.id, 'manual_done', async (tx) => {
        const now = deps.now();
        // The latest reply waiting for a person (a follow-up's, after the first reply's).
        const current = (await tx.repliesOf(match.id))
          .filter((r) => r.state === 'manual_pending' || r.state === 'failed')
          .at(-1);
        if (current === undefined) return fail('not_manual');
        const reply = await tx.markManualDone(current.id, url === '' ? null : url, stored(actor), now);
        const decision = await tx.recordDecision(
          match.id,
          'manual_reply',
          stored(actor),
          url === '' ? {} : { url },
          now,
        );
        await job(tx, 'refresh', { matchId: match.id }, JOB_IDS.refresh(match.id, decision.id));
        return { decision, reply };
      });
    },

    async retryReply(actor, matchId, input = {}) {
      const match = await load(actor, matchId, 'retry');
      if ('ok' in match) return match;
      return decide(match.id, 'retried', async (tx) => {
        const now = deps.now();
        const all = await tx.repliesOf(match.id);
        // Which reply: the one named, else the latest that failed (the first reply, before follow-ups).
        const current = present(input.replyId)
          ? all.find((r) => r.id === input.replyId)
          : all.filter((r) => r.state === 'failed').at(-1);
        // A pending reply has its job (or the sweeper gives it one again): only a failed one is retried.
        if (current === undefined || current.state !== 'failed') return fail('not_retryable');
        const reply = await tx.requeueReply(current.id, stored(actor), now);
        // The same job id as the first send: a job still kept as failed is retried, never doubled.
        await job(tx, 'reply', replyPayload(reply), JOB_IDS.reply(match.id, reply), { rerun: true });
        await job(tx, 'refresh', { matchId: match.id }, JOB_IDS.refresh(match.id, `retry-${now.getTime()}`));
        return { decision: null, reply };
      });
    },

    async followUp(actor, matchId, input) {
      const match = await load(actor, matchId, 'follow_up');
      if ('ok' in match) return match;
      const [events, first] = await Promise.all([
        repos.cases.events(match.id),
        repos.replies.forMatch(match.id),
      ]);
      if (first === null || (first.state !== 'sent' && first.state !== 'manual_done'))
        return fail('not_replied');
      const answers = events.filter((e) => e.kind === 'answer' && e.postId !== null);
      if (answers.length === 0) return fail('no_answer');
      const answer = present(input.answerId) ? answers.find((e) => e.id === input.answerId) : answers.at(-1);
      if (answer === undefined) return invalid([{ field: 'answer', code: 'unknown_answer' }]);

      const { config } = await repos.config.current();
      // The answer's author is the customer: the Mastodon mention rule and the length are theirs.
      const answerPost = answer.post ?? match.post;
      const checked = checkReplyInput(
        { ...match, post: { ...match.post, author: answerPost.author } },
        input,
        config,
      );
      if ('ok' in checked) return checked;
      const { template, category, text } = checked;
      const account = await repos.accounts.get(first.accountId);
      if (account === null) return fail('no_account');

      return decide(match.id, 'followed_up', async (tx) => {
        const now = deps.now();
        const status = await tx.lockMatch(match.id);
        if (status === 'deleted' || status === 'dismissed') return fail('already_handled');
        // Suppression as for a first reply, but for the one who wrote back and without the cooldown;
        // the cap counted as a surge's replies count it (sent today, and those on their way).
        const suppressed = followUpSuppression(
          answerPost,
          config,
          await tx.repliesCountedToday(now, organizationTimeZone(config)),
          now,
        );
        if (suppressed !== null) return fail('follow_up_suppressed', suppressed);
        const postId = answer.postId as string;
        const reply = await tx.insertReply(
          match.id,
          {
            accountId: account.id,
            text,
            idempotencyKey: replyKey(match.id, postId),
            actor: stored(actor),
            target: {
              postId,
              url: answer.url ?? answerPost.url,
              authorHandle: answer.authorHandle ?? answerPost.author.handle,
            },
          },
          now,
        );
        // A follow-up for this answer exists already (pressed twice, or by two reviewers at once).
        if (reply === null) return fail('already_handled');
        const decision = await tx.recordDecision(
          match.id,
          'reply',
          stored(actor),
          {
            category,
            ...(template ? { templateId: template.id } : {}),
            text,
            followUp: true,
            answerId: answer.id,
          },
          now,
        );
        // Our move is made again: the case goes back to waiting once the reply is sent (the reply job).
        await job(tx, 'reply', replyPayload(reply), JOB_IDS.reply(match.id, reply));
        await job(tx, 'refresh', { matchId: match.id }, JOB_IDS.refresh(match.id, decision.id));
        return { decision, reply };
      });
    },

    async addNote(actor, matchId, input) {
      const match = await load(actor, matchId, 'note');
      if ('ok' in match) return match;
      const text = typeof input.text === 'string' ? input.text.replace(/\r\n?/gu, '\n').trim() : '';
      if (text === '') return invalid([{ field: 'note', code: 'empty_note' }]);
      if (text.length > MAX_NOTE)
        return invalid([{ field: 'note', code: 'input_too_long', params: { max: MAX_NOTE } }]);
      return decide(match.id, 'noted', async (tx) => {
        const now = deps.now();
        const event = await tx.addCaseEvent(match.id, { kind: 'note', actor: stored(actor), text }, now);
        await tx.audit(stored(actor), 'case.note', match.id, { eventId: event.id }, now);
        // Shown in the Discord thread too, unless it came from there (it is already in the thread).
        if (actor.kind !== 'discord') {
          await job(tx, 'caseUpdate', { matchId: match.id, eventId: event.id }, JOB_IDS.caseUpdate(event.id));
        }
        return { decision: null, event };
      });
    },

    async assign(actor, matchId, input) {
      const match = await load(actor, matchId, 'assign');
      if ('ok' in match) return match;
      const assignee = input.assignee ?? null;
      if (
        assignee !== null &&
        (typeof assignee !== 'object' ||
          !['web', 'discord'].includes(assignee.kind) ||
          typeof assignee.id !== 'string' ||
          assignee.id === '' ||
          typeof assignee.name !== 'string')
      ) {
        return invalid([{ field: 'assignee', code: 'unknown_assignee' }]);
      }
      const to = assignee === null ? null : { kind: assignee.kind, id: assignee.id, name: assignee.name };
      return decide(match.id, 'assigned', async (tx) => {
        const now = deps.now();
        const current = await tx.caseOf(match.id);
        if (current.assignee?.kind === to?.kind && current.assignee?.id === to?.id) return { decision: null };
        await tx.setAssignee(match.id, to);
        const event = await tx.addCaseEvent(
          match.id,
          { kind: 'assigned', actor: stored(actor), detail: { assignee: to, previous: current.assignee } },
          now,
        );
        await tx.audit(stored(actor), 'case.assign', match.id, { assignee: to }, now);
        await job(tx, 'caseUpdate', { matchId: match.id, eventId: event.id }, JOB_IDS.caseUpdate(event.id));
        return { decision: null, event };
      });
    },

    async linkIdentity(actor, matchId, input) {
      const match = await load(actor, matchId, 'link_identity');
      if ('ok' in match) return match;
      const platform = platformSchema.safeParse(input.platform);
      const other = platform.success
        ? await repos.people.findByHandle(platform.data, typeof input.handle === 'string' ? input.handle : '')
        : null;
      if (other === null) return invalid([{ field: 'identity', code: 'unknown_identity' }]);
      const author = match.post.author;
      if (other.platform === match.platform && other.authorId === author.id)
        return invalid([{ field: 'identity', code: 'same_identity' }]);
      const identities = await repos.people.link(
        { platform: match.platform, authorId: author.id },
        { platform: other.platform, authorId: other.authorId },
        stored(actor),
        deps.now(),
      );
      return { ok: true, kind: 'linked', match, decision: null, identities };
    },

    async setCaseState(actor, matchId, input) {
      const match = await load(actor, matchId, 'case_state');
      if ('ok' in match) return match;
      const state = CASE_STATES.find((s) => s === input.state);
      if (state === undefined) return invalid([{ field: 'state', code: 'unknown_state' }]);
      return decide(match.id, 'case_state', async (tx) => {
        const now = deps.now();
        const current = await tx.caseOf(match.id);
        if (current.state === state) return { decision: null };
        await tx.setCaseState(match.id, state);
        const event = await tx.addCaseEvent(
          match.id,
          { kind: 'state', actor: stored(actor), detail: { state, previous: current.state } },
          now,
        );
        await tx.audit(stored(actor), 'case.state', match.id, { state, previous: current.state }, now);
        await job(tx, 'caseUpdate', { matchId: match.id, eventId: event.id }, JOB_IDS.caseUpdate(event.id));
        return { decision: null, event };
      });
    },

    async tagVoice(actor, matchId, input) {
      const match = await load(actor, matchId, 'voice');
      if ('ok' in match) return match;
      const oneLine = (value: unknown) =>
        typeof value === 'string' ? value.replace(/\s+/gu, ' ').trim() : '';
      const department = oneLine(input.department);
      const summary = typeof input.summary === 'string' ? input.summary.replace(/\r\n?/gu, '\n').trim() : '';
      const problems: DeskProblem[] = [];
      if (department === '') problems.push({ field: 'department', code: 'empty_department' });
      else if (department.length > MAX_DEPARTMENT)
        problems.push({ field: 'department', code: 'input_too_long', params: { max: MAX_DEPARTMENT } });
      if (summary.length > MAX_VOICE_SUMMARY)
        problems.push({ field: 'summary', code: 'input_too_long', params: { max: MAX_VOICE_SUMMARY } });
      if (problems.length > 0) return invalid(problems);
      return decide(match.id, 'voice_tagged', async (tx) => {
        const now = deps.now();
        const { event, created } = await tx.tagVoice(
          match.id,
          { actor: stored(actor), department, summary },
          now,
        );
        await tx.audit(
          stored(actor),
          'case.voice',
          match.id,
          { department, summary, eventId: event.id, ...(created ? {} : { updated: true }) },
          now,
        );
        // Shown in the case's Discord thread; a second tag of the same department is shown again.
        await job(
          tx,
          'caseUpdate',
          { matchId: match.id, eventId: event.id },
          JOB_IDS.caseUpdate(created ? event.id : `${event.id}-${now.getTime()}`),
        );
        return { decision: null, event };
      });
    },
  };
}
