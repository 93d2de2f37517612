import type { Actor, CaseEvent, MatchRecord, ReplyRecord, ReviewDecision } from '@kikimimi/db';
import {
  type DecisionKindDone,
  type DeskActor,
  type DeskField,
  type DeskOutcome,
  failureMessage,
  problemMessage,
  type ReplyInput,
} from '@kikimimi/desk';
import type { Lang, SessionUser, WebDeps } from '../../context.ts';

/*
 * The console's side of the review desk (@kikimimi/desk), a thin adapter: the route hands the input
 * to the desk — the same functions the Discord buttons call — and turns its outcome into an HTTP status
 * and messages in the user's language. Nothing here decides anything.
 */

/** One thing wrong with the input, next to its field. */
export interface FieldProblem {
  readonly path: DeskField;
  readonly message: string;
}

export type ActionOutcome =
  | {
      readonly ok: true;
      readonly kind: DecisionKindDone;
      readonly match: MatchRecord;
      readonly decision: ReviewDecision | null;
      readonly reply?: ReplyRecord | undefined;
      readonly event?: CaseEvent | undefined;
      /** The decision is stored, its jobs wait in the outbox: the queue did not take them yet (Redis down). */
      readonly queueFailed: boolean;
    }
  | {
      readonly ok: false;
      readonly status: 403 | 404 | 409 | 422;
      readonly error: string;
      readonly message: string;
      readonly problems?: readonly FieldProblem[];
    };

export type ActionName =
  | 'reply'
  | 'escalate'
  | 'dismiss'
  | 'manual-done'
  | 'retry'
  | 'follow-up'
  | 'note'
  | 'assign'
  | 'case-state'
  | 'link-identity';

export const ACTION_NAMES: readonly ActionName[] = [
  'reply',
  'escalate',
  'dismiss',
  'manual-done',
  'retry',
  'follow-up',
  'note',
  'assign',
  'case-state',
  'link-identity',
];

const STATUS = {
  not_found: 404,
  forbidden: 403,
  invalid: 422,
} as const;

/** The signed-in user as the desk sees them. */
export const deskActor = (user: SessionUser): DeskActor => ({
  kind: 'web',
  id: user.id,
  name: user.username,
  role: user.role,
});

/** Runs one of the reviewer's actions through the desk and says how it went, in `lang`. */
export async function runDeskAction(
  deps: WebDeps,
  lang: Lang,
  user: SessionUser,
  action: ActionName,
  matchId: string,
  input: Record<string, unknown>,
): Promise<ActionOutcome> {
  const actor = deskActor(user);
  let outcome: DeskOutcome;
  switch (action) {
    case 'reply': {
      const reply: ReplyInput = { text: input.text, category: input.category, templateId: input.templateId };
      outcome = await deps.desk.reply(actor, matchId, reply);
      break;
    }
    case 'escalate':
      outcome = await deps.desk.escalate(actor, matchId, { target: input.target });
      break;
    case 'dismiss':
      outcome = await deps.desk.dismiss(actor, matchId, { reason: input.reason });
      break;
    case 'manual-done':
      outcome = await deps.desk.markRepliedByHand(actor, matchId, { url: input.url });
      break;
    case 'retry':
      outcome = await deps.desk.retryReply(actor, matchId, { replyId: input.replyId });
      break;
    case 'follow-up':
      outcome = await deps.desk.followUp(actor, matchId, {
        text: input.text,
        category: input.category,
        templateId: input.templateId,
        answerId: input.answerId,
      });
      break;
    case 'note':
      outcome = await deps.desk.addNote(actor, matchId, { text: input.text });
      break;
    case 'assign': {
      const assignee = await assigneeOf(deps, user, input.assignee);
      outcome = await deps.desk.assign(actor, matchId, { assignee });
      break;
    }
    case 'case-state':
      outcome = await deps.desk.setCaseState(actor, matchId, { state: input.state });
      break;
    case 'link-identity':
      outcome = await deps.desk.linkIdentity(actor, matchId, {
        platform: input.platform,
        handle: input.handle,
      });
      break;
  }
  if (!outcome.ok) {
    const status = outcome.code in STATUS ? STATUS[outcome.code as keyof typeof STATUS] : 409;
    return {
      ok: false,
      status,
      error: outcome.code,
      message: failureMessage(outcome, lang),
      ...(outcome.code === 'invalid'
        ? { problems: outcome.problems.map((p) => ({ path: p.field, message: problemMessage(p, lang) })) }
        : {}),
    };
  }
  // The jobs are in the outbox with the decision; hand them to the queue now rather than at the
  // worker's next relay round (a down queue only delays them: the worker relays them when it is back).
  const queued = await deps.relayOutbox();
  return {
    ok: true,
    kind: outcome.kind,
    match: outcome.match,
    decision: outcome.decision,
    reply: outcome.reply,
    event: outcome.event,
    queueFailed: !queued,
  };
}

/**
 * Who a case is given to: "me", a console user's id, or nobody ("" / absent). An unknown id is passed
 * on as it is, for the desk to refuse with its message.
 */
async function assigneeOf(deps: WebDeps, user: SessionUser, value: unknown): Promise<Actor | null> {
  if (value === undefined || value === null || value === '') return null;
  if (value === 'me' || value === user.id) return { kind: 'web', id: user.id, name: user.username };
  const other = typeof value === 'string' ? await deps.repos.users.get(value) : null;
  return other === null
    ? ({ kind: 'system', id: '', name: '' } as Actor)
    : { kind: 'web', id: other.id, name: other.username };
}
