import type { CaseEvent, Identity, MatchRecord, ReplyRecord, ReviewDecision } from '@kikimimi/db';

/** A field of a decision's input a problem belongs to. */
export type DeskField =
  | 'text'
  | 'category'
  | 'templateId'
  | 'target'
  | 'reason'
  | 'url'
  | 'note'
  | 'assignee'
  | 'state'
  | 'answer'
  | 'identity'
  | 'department'
  | 'summary'
  | 'members';

/** One thing wrong with a decision's input, next to its field (texts: messages.ts). */
export interface DeskProblem {
  readonly field: DeskField;
  readonly code:
    | 'empty'
    | 'too_long'
    | 'unpostable'
    | 'input_too_long'
    | 'unknown_template'
    | 'unknown_category'
    | 'unknown_target'
    | 'bad_url'
    | 'unknown_assignee'
    | 'unknown_state'
    | 'unknown_answer'
    | 'empty_note'
    | 'unknown_identity'
    | 'same_identity'
    | 'empty_department'
    | 'no_members'
    | 'not_member'
    | 'too_many_members'
    | 'bad_placeholder';
  readonly params?: Readonly<Record<string, string | number>>;
}

/** Why the desk refused a decision; nothing was written (but a refusal for want of a role is audited). */
export type DeskFailure =
  | { readonly ok: false; readonly code: 'not_found' }
  | { readonly ok: false; readonly code: 'forbidden' }
  | { readonly ok: false; readonly code: 'already_handled' }
  | { readonly ok: false; readonly code: 'already_escalated'; readonly target: string }
  | { readonly ok: false; readonly code: 'suppressed' }
  /** The author deleted the post before anyone answered it: the match is closed (status `deleted`). */
  | { readonly ok: false; readonly code: 'post_deleted' }
  | { readonly ok: false; readonly code: 'no_account' }
  | { readonly ok: false; readonly code: 'not_manual' }
  | { readonly ok: false; readonly code: 'not_retryable' }
  /** A follow-up needs our first reply to have gone out. */
  | { readonly ok: false; readonly code: 'not_replied' }
  /** A follow-up answers something the customer said back: there is nothing yet. */
  | { readonly ok: false; readonly code: 'no_answer' }
  /**
   * A follow-up the suppression rules hold back: the customer is one of our own accounts or asked not to
   * be contacted, or the platform's daily reply cap is reached (the author cooldown does not apply).
   */
  | {
      readonly ok: false;
      readonly code: 'follow_up_suppressed';
      readonly reason: 'own_account' | 'do_not_contact' | 'daily_cap';
      readonly params?: Readonly<Record<string, string | number>>;
    }
  /** A reply to a surge's members "all waiting": no member is waiting any more. */
  | { readonly ok: false; readonly code: 'nothing_waiting' }
  | { readonly ok: false; readonly code: 'invalid'; readonly problems: readonly DeskProblem[] };

export type DecisionKindDone =
  | 'replied'
  | 'escalated'
  | 'dismissed'
  | 'manual_done'
  | 'retried'
  | 'followed_up'
  | 'noted'
  | 'assigned'
  | 'case_state'
  | 'linked'
  | 'voice_tagged';

/** A decision the desk took: stored with its audit entry and its jobs, in one transaction. */
export interface DeskSuccess {
  readonly ok: true;
  readonly kind: DecisionKindDone;
  /** The match as it is after the decision. */
  readonly match: MatchRecord;
  readonly decision: ReviewDecision | null;
  readonly reply?: ReplyRecord | undefined;
  /** The case event it wrote (a note, an assignment, a state change). */
  readonly event?: CaseEvent | undefined;
  /** The customer's identities after a link. */
  readonly identities?: readonly Identity[] | undefined;
}

export type DeskOutcome = DeskSuccess | DeskFailure;
