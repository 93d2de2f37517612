import type {
  Actor,
  AnnouncementRecord,
  DeskTransaction,
  MatchRecord,
  Repositories,
  SurgeRecord,
} from '@kikimimi/db';
import { measureReply, organizationTimeZone, type Platform } from '@kikimimi/rules';
import { type DeskActor, escalationTargets, MAX_REASON, MAX_REPLY_INPUT, mayDecide } from './desk.ts';
import { JOB_IDS, type JobName, type JobPayload, SURGE_EDIT_MS } from './jobs.ts';
import type { DeskFailure, DeskProblem } from './outcomes.ts';
import { suppressionPolicyOf, writeFirstReply } from './reply-steps.ts';
import {
  planSurgeReplies,
  replySourceOf,
  type SurgeReplyInput,
  type SurgeSkip,
  selectMembers,
} from './surge-replies.ts';

/** What a decision on a surge did. */
export interface SurgeSuccess {
  readonly ok: true;
  readonly kind: 'announced' | 'dismissed' | 'closed' | 'replied' | 'escalated';
  readonly surge: SurgeRecord;
  /** Announcements created now (0 when every account had one already: pressed twice). */
  readonly announcements?: readonly AnnouncementRecord[];
  /** Members dismissed now. */
  readonly dismissed?: number;
  /** Replies queued now (a reply to the members), each with the time it goes out. */
  readonly queued?: readonly { readonly matchId: string; readonly accountId: string; readonly dueAt: Date }[];
  /** Members the reply left out, and why. */
  readonly skipped?: readonly SurgeSkip[];
  /** Members still waiting beyond the most one reply to the members takes (MAX_SURGE_REPLIES). */
  readonly remaining?: number;
  /** Where the surge was escalated to. */
  readonly target?: string;
}
export type SurgeOutcome = SurgeSuccess | DeskFailure;

/** Decisions on a whole surge: one transaction each (the surge's row lock first), audited, jobs via the outbox. */
export interface SurgeDesk {
  /**
   * Posts one announcement on each enabled account (or the given ones): exactly once per surge and
   * account, whoever presses twice (a row with a unique key, then its job).
   */
  announce(
    actor: DeskActor,
    surgeId: string,
    input: { readonly text?: unknown; readonly accountIds?: readonly string[] },
  ): Promise<SurgeOutcome>;
  /** Dismisses every member still waiting for a decision. */
  dismissAll(actor: DeskActor, surgeId: string, input: { readonly reason?: unknown }): Promise<SurgeOutcome>;
  /** Closes the surge: later matches are decided one by one again. */
  close(actor: DeskActor, surgeId: string): Promise<SurgeOutcome>;
  /**
   * Replies to the selected members (or all still waiting) with one prepared text, each member through
   * the rules of a single reply (and its own reply row and idempotency key: never twice), paced one per
   * `surges.replyIntervalSeconds` per account; the members that may not be answered are left out with
   * the reason. Audited as `surge.reply`.
   */
  replyToMembers(actor: DeskActor, surgeId: string, input: SurgeReplyInput): Promise<SurgeOutcome>;
  /**
   * Escalates the whole surge to a target (an escalation route): one message and one ping in its
   * channel, once per surge and target whoever presses twice. Audited as `surge.escalate`.
   */
  escalate(actor: DeskActor, surgeId: string, input: { readonly target?: unknown }): Promise<SurgeOutcome>;
}

export interface SurgeDeskDeps {
  readonly repos: Pick<
    Repositories,
    'surges' | 'accounts' | 'discord' | 'desk' | 'audit' | 'matches' | 'config' | 'ingest'
  >;
  readonly now: () => Date;
  readonly afterCommit?: () => void;
}

type SurgeFailureCode = 'not_found' | 'forbidden' | 'already_handled' | 'no_account' | 'nothing_waiting';
const fail = (code: SurgeFailureCode): DeskFailure => ({ ok: false, code });
const invalid = (problems: DeskProblem[]): DeskFailure => ({ ok: false, code: 'invalid', problems });
const stored = (actor: DeskActor): Actor => ({ kind: actor.kind, id: actor.id, name: actor.name });
const HOUR_MS = 3_600_000;

/** The idempotency key of a surge's announcement on an account. */
export const announcementKey = (surgeId: string, accountId: string) =>
  `kikimimi:announce:${surgeId}:${accountId}`;

export function createSurgeDesk(deps: SurgeDeskDeps): SurgeDesk {
  const { repos } = deps;

  const authorize = async (actor: DeskActor, surgeId: string, attempted: string) => {
    const settings = actor.kind === 'discord' ? await repos.discord.get() : { reviewerRoleIds: [] };
    if (mayDecide(actor, settings)) return null;
    await repos.audit.record(stored(actor), 'surge.refused', surgeId, { attempted });
    return fail('forbidden');
  };

  const job = <N extends JobName>(tx: DeskTransaction, name: N, payload: JobPayload<N>, jobId: string) =>
    tx.enqueue({ queue: name, jobId, payload }, deps.now());

  /**
   * The surge's message shows the decision: the edit job of this window, run at its end as the
   * worker's are (a job run at once would take the window's id, and a later decision in the same
   * window would find it done and not be shown).
   */
  const refreshMessage = (tx: DeskTransaction, surgeId: string, now: Date) => {
    const window = Math.floor(now.getTime() / SURGE_EDIT_MS);
    return tx.enqueue(
      {
        queue: 'surgeMessage',
        jobId: JOB_IDS.surgeMessage(surgeId, window),
        payload: { surgeId },
        notBefore: new Date((window + 1) * SURGE_EDIT_MS),
      },
      deps.now(),
    );
  };

  const decide = async <T extends object>(
    surgeId: string,
    work: (tx: DeskTransaction, surge: SurgeRecord) => Promise<DeskFailure | T>,
  ): Promise<DeskFailure | (T & { surge: SurgeRecord })> => {
    const rollback = Symbol('rollback');
    let refused: DeskFailure | undefined;
    let done: T | undefined;
    try {
      await repos.desk.transaction(async (tx) => {
        const surge = await tx.lockSurge(surgeId);
        if (surge === null) {
          refused = fail('not_found');
          throw rollback;
        }
        const result = await work(tx, surge);
        if ('ok' in result && result.ok === false) {
          refused = result as DeskFailure;
          throw rollback;
        }
        done = result as T;
      });
    } catch (error) {
      if (error !== rollback) throw error;
    }
    if (refused !== undefined) return refused;
    deps.afterCommit?.();
    const surge = await repos.surges.get(surgeId);
    if (surge === null || done === undefined) return fail('not_found');
    return { ...(done as T), surge };
  };

  /** The matches of these ids (oldest first, as given), in pages the repository takes. */
  const loadMatches = async (ids: readonly string[]): Promise<MatchRecord[]> => {
    const byId = new Map<string, MatchRecord>();
    for (let i = 0; i < ids.length; i += 500) {
      const page = ids.slice(i, i + 500);
      for (const match of await repos.matches.list({ ids: page }, { limit: page.length }))
        byId.set(match.id, match);
    }
    return ids.flatMap((id) => byId.get(id) ?? []);
  };

  return {
    async announce(actor, surgeId, input) {
      const refused = await authorize(actor, surgeId, 'announce');
      if (refused !== null) return refused;
      const text = typeof input.text === 'string' ? input.text.trim() : '';
      if (text === '') return { ok: false, code: 'invalid', problems: [{ field: 'text', code: 'empty' }] };
      if (text.length > MAX_REPLY_INPUT)
        return {
          ok: false,
          code: 'invalid',
          problems: [{ field: 'text', code: 'input_too_long', params: { max: MAX_REPLY_INPUT } }],
        };
      const accounts = (await repos.accounts.list()).filter(
        (a) => a.enabled && (input.accountIds === undefined || input.accountIds.includes(a.id)),
      );
      if (accounts.length === 0) return fail('no_account');
      for (const account of accounts) {
        const measured = measureReply(text, account.platform as Platform);
        if (!measured.ok)
          return {
            ok: false,
            code: 'invalid',
            problems: [
              {
                field: 'text',
                code: 'too_long',
                params: { platform: account.platform, length: measured.length, max: measured.limit },
              },
            ],
          };
      }
      const outcome = await decide(surgeId, async (tx) => {
        const now = deps.now();
        const created: AnnouncementRecord[] = [];
        for (const account of accounts) {
          const row = await tx.insertAnnouncement(
            surgeId,
            {
              accountId: account.id,
              platform: account.platform,
              text,
              idempotencyKey: announcementKey(surgeId, account.id),
              createdBy: stored(actor),
            },
            now,
          );
          if (row === null) continue;
          created.push(row);
          await job(tx, 'announce', { announcementId: row.id }, JOB_IDS.announce(row.id));
        }
        if (created.length === 0) return fail('already_handled');
        await tx.markSurgeHandled(surgeId, 'announced', now);
        await tx.audit(
          stored(actor),
          'surge.announce',
          surgeId,
          { accounts: created.map((c) => c.accountId), text },
          now,
        );
        await refreshMessage(tx, surgeId, now);
        return { announcements: created };
      });
      return 'surge' in outcome ? { ok: true, kind: 'announced', ...outcome } : outcome;
    },

    async dismissAll(actor, surgeId, input) {
      const refused = await authorize(actor, surgeId, 'dismiss');
      if (refused !== null) return refused;
      const reason =
        typeof input.reason === 'string'
          ? input.reason.replace(/\s+/gu, ' ').trim().slice(0, MAX_REASON)
          : '';
      const outcome = await decide(surgeId, async (tx) => {
        const now = deps.now();
        const members = await tx.lockUndecidedMembers(surgeId);
        for (const matchId of members) {
          const decision = await tx.recordDecision(
            matchId,
            'dismiss',
            stored(actor),
            { reason: reason || 'surge', surgeId },
            now,
          );
          await tx.setStatus(matchId, 'dismissed', now);
          // Members with a review message of their own (posted before they joined) show it.
          await job(tx, 'refresh', { matchId }, JOB_IDS.refresh(matchId, decision.id));
        }
        await tx.markSurgeHandled(surgeId, 'dismissed', now);
        await tx.audit(stored(actor), 'surge.dismiss', surgeId, { members: members.length, reason }, now);
        await refreshMessage(tx, surgeId, now);
        return { dismissed: members.length };
      });
      return 'surge' in outcome ? { ok: true, kind: 'dismissed', ...outcome } : outcome;
    },

    async close(actor, surgeId) {
      const refused = await authorize(actor, surgeId, 'close');
      if (refused !== null) return refused;
      const outcome = await decide(surgeId, async (tx, surge) => {
        if (surge.status === 'closed') return fail('already_handled');
        const now = deps.now();
        await tx.closeSurge(surgeId, now);
        await tx.markSurgeHandled(surgeId, 'closed', now);
        await tx.audit(stored(actor), 'surge.close', surgeId, {}, now);
        // The detector (held by one worker) hears it in order with the matches.
        await job(tx, 'surge', { closeSurgeId: surgeId }, JOB_IDS.surgeClose(surgeId));
        await refreshMessage(tx, surgeId, now);
        return {};
      });
      return 'surge' in outcome ? { ok: true, kind: 'closed', ...outcome } : outcome;
    },

    async replyToMembers(actor, surgeId, input) {
      const refused = await authorize(actor, surgeId, 'reply');
      if (refused !== null) return refused;
      if ((await repos.surges.get(surgeId)) === null) return fail('not_found');
      const { config } = await repos.config.current();
      const source = replySourceOf(input, config);
      if ('ok' in source) return source;
      const members = await repos.surges.members(surgeId, 100_000);
      const selection = selectMembers(members, input);
      if ('ok' in selection) return selection;
      const records = await loadMatches(selection.ids);
      const accounts = new Map((await repos.accounts.list()).map((a) => [a.id, a]));
      const policy = suppressionPolicyOf(config);
      const cooldownMs = config.suppression.authorCooldownHours * HOUR_MS;
      const contacts =
        cooldownMs > 0 && records.length > 0
          ? await repos.ingest.contactHistory(
              records.flatMap((m) => policy.authorKeys(m.platform, m.post.author)),
              new Date(deps.now().getTime() - cooldownMs),
            )
          : [];

      const outcome = await decide(surgeId, async (tx) => {
        const now = deps.now();
        const locked = new Map((await tx.lockMembers(surgeId, selection.ids)).map((m) => [m.id, m]));
        const planned = records.flatMap((match) => {
          const state = locked.get(match.id);
          return state === undefined ? [] : [{ match, status: state.status, replied: state.replied }];
        });
        const plan = planSurgeReplies({
          members: planned,
          source,
          config,
          accounts,
          contacts,
          // Each person once per surge: the authors it has answered already (under its lock).
          answered: await tx.answeredAuthors(surgeId),
          countedToday: await tx.repliesCountedToday(now, organizationTimeZone(config)),
          latestDue: await tx.lockReplyPacing([
            ...new Set(planned.flatMap((m) => (m.match.accountId === null ? [] : [m.match.accountId]))),
          ]),
          intervalMs: config.surges.replyIntervalSeconds * 1_000,
          now,
        });
        // Everyone chosen was answered or dismissed meanwhile (pressed twice): nothing to decide.
        if (plan.replies.length === 0 && plan.skips.every((skip) => skip.reason === 'already_handled'))
          return fail('nothing_waiting');
        const skipped: SurgeSkip[] = [...plan.skips];
        const queued: { matchId: string; accountId: string; dueAt: Date }[] = [];
        for (const reply of plan.replies) {
          const written = await writeFirstReply(
            tx,
            reply.matchId,
            {
              accountId: reply.accountId,
              text: reply.text,
              category: reply.category,
              template: reply.template,
              actor: stored(actor),
              dueAt: reply.dueAt,
              detail: { surgeId },
            },
            now,
          );
          if (written === null) skipped.push({ matchId: reply.matchId, reason: 'already_handled' });
          else queued.push({ matchId: reply.matchId, accountId: reply.accountId, dueAt: reply.dueAt });
        }
        // Why members were left out, for the page; those answered or dismissed already show that instead.
        await tx.recordSurgeSkips(
          surgeId,
          skipped.filter((skip) => skip.reason !== 'already_handled'),
          now,
        );
        await tx.clearSurgeSkips(
          surgeId,
          queued.map((q) => q.matchId),
        );
        if (queued.length > 0) await tx.markSurgeHandled(surgeId, 'replied', now);
        const reasons: Record<string, number> = {};
        for (const s of skipped) reasons[s.reason] = (reasons[s.reason] ?? 0) + 1;
        await tx.audit(
          stored(actor),
          'surge.reply',
          surgeId,
          {
            queued: queued.length,
            skipped: reasons,
            remaining: selection.remaining,
            ...(source.kind === 'text'
              ? { text: source.text, ...(source.template ? { templateId: source.template.id } : {}) }
              : { category: source.category }),
          },
          now,
        );
        await refreshMessage(tx, surgeId, now);
        return { queued, skipped, remaining: selection.remaining };
      });
      return 'surge' in outcome ? { ok: true, kind: 'replied', ...outcome } : outcome;
    },

    async escalate(actor, surgeId, input) {
      const refused = await authorize(actor, surgeId, 'escalate');
      if (refused !== null) return refused;
      const [{ config }, settings] = await Promise.all([repos.config.current(), repos.discord.get()]);
      // The configured routes (a surge's members were routed by the same rules).
      const { targets } = escalationTargets({ decision: { escalations: [] } }, config, settings);
      const target = typeof input.target === 'string' ? input.target.trim() : '';
      if (!targets.includes(target))
        return invalid([
          { field: 'target', code: 'unknown_target', params: { targets: targets.join(', ') } },
        ]);
      const outcome = await decide(surgeId, async (tx) => {
        const now = deps.now();
        // One escalation per surge and target, whoever presses and from where: no second ping.
        if (!(await tx.insertSurgeEscalation(surgeId, target, stored(actor), now)))
          return { ok: false, code: 'already_escalated', target } as DeskFailure;
        await tx.markSurgeHandled(surgeId, 'escalated', now);
        await tx.audit(stored(actor), 'surge.escalate', surgeId, { target }, now);
        await job(
          tx,
          'surgeEscalate',
          { surgeId, target, actorName: actor.name || actor.id },
          JOB_IDS.surgeEscalate(surgeId, target),
        );
        await refreshMessage(tx, surgeId, now);
        return { target };
      });
      return 'surge' in outcome ? { ok: true, kind: 'escalated', ...outcome } : outcome;
    },
  };
}
