import type { Actor, AnnouncementRecord, DeskTransaction, Repositories, SurgeRecord } from '@kikimimi/db';
import { measureReply, type Platform } from '@kikimimi/rules';
import { type DeskActor, MAX_REASON, MAX_REPLY_INPUT, mayDecide } from './desk.ts';
import { JOB_IDS, type JobName, type JobPayload, SURGE_EDIT_MS } from './jobs.ts';
import type { DeskFailure } from './outcomes.ts';

/** What a decision on a surge did. */
export interface SurgeSuccess {
  readonly ok: true;
  readonly kind: 'announced' | 'dismissed' | 'closed';
  readonly surge: SurgeRecord;
  /** Announcements created now (0 when every account had one already: pressed twice). */
  readonly announcements?: readonly AnnouncementRecord[];
  /** Members dismissed now. */
  readonly dismissed?: number;
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
}

export interface SurgeDeskDeps {
  readonly repos: Pick<Repositories, 'surges' | 'accounts' | 'discord' | 'desk' | 'audit'>;
  readonly now: () => Date;
  readonly afterCommit?: () => void;
}

const fail = (code: 'not_found' | 'forbidden' | 'already_handled' | 'no_account'): DeskFailure => ({
  ok: false,
  code,
});
const stored = (actor: DeskActor): Actor => ({ kind: actor.kind, id: actor.id, name: actor.name });

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

  /** The surge's message shows the decision (the next edit window). */
  const refreshMessage = (tx: DeskTransaction, surgeId: string, now: Date) =>
    job(
      tx,
      'surgeMessage',
      { surgeId },
      JOB_IDS.surgeMessage(surgeId, Math.floor(now.getTime() / SURGE_EDIT_MS)),
    );

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
  };
}
