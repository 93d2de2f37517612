import type { MatchRecord, MatchStatus, PlatformAccount, SurgeMember } from '@kikimimi/db';
import {
  type Category,
  type Config,
  type ContactRecord,
  categorySchema,
  checkTemplateText,
  measureReplyTo,
  type Platform,
  renderTemplate,
  type SuppressionReason,
  type Template,
} from '@kikimimi/rules';
import { replyDraft } from './desk.ts';
import type { DeskFailure, DeskProblem } from './outcomes.ts';
import { checkReplyText, MAX_REPLY_INPUT, replyRefusal, suppressionPolicyOf } from './reply-steps.ts';

/*
 * A reply to a surge's members: its form read (whom, what text) and the reply planned — which members
 * get one (each through the same rules as a single reply — replyRefusal, the account, the text measured
 * the platform's way — and the suppression policy asked again, as the members were judged when they
 * arrived), which are left out and why, and when each reply goes out: one per
 * `surges.replyIntervalSeconds` per account, after the replies already paced on that account. Pure: the
 * desk reads and locks what it needs, and writes what this decides.
 */

/** Why a reply to a surge's members left one out (texts: messages.ts `skipMessage`). */
export type SurgeSkipReason =
  | 'already_handled'
  | 'post_deleted'
  | 'suppressed'
  | 'no_account'
  | 'own_account'
  | 'do_not_contact'
  | 'repost'
  | 'author_cooldown'
  | 'same_person'
  | 'daily_cap'
  | 'no_template'
  | 'empty'
  | 'too_long'
  | 'unpostable'
  | 'input_too_long';

/** A member left out, and why. */
export interface SurgeSkip {
  readonly matchId: string;
  readonly reason: SurgeSkipReason;
  readonly params?: Readonly<Record<string, string | number>>;
}

/** A member's reply as planned: from which account, what, and not before when. */
export interface PlannedReply {
  readonly matchId: string;
  readonly accountId: string;
  readonly platform: Platform;
  readonly text: string;
  readonly category: Category;
  readonly template?: Template | undefined;
  readonly dueAt: Date;
}

/**
 * The text of the replies: written once (its placeholders filled for each member, like a template's),
 * or for each member the template of a category that fits its post (as a single reply's form offers).
 */
export type ReplySource =
  | {
      readonly kind: 'text';
      readonly text: string;
      readonly category: Category;
      readonly template?: Template;
    }
  | { readonly kind: 'category'; readonly category: Category };

/** A member as the plan reads it: the match, and its state under its lock. */
export interface PlanMember {
  readonly match: MatchRecord;
  readonly status: MatchStatus | null;
  readonly replied: boolean;
}

export interface SurgeReplyPlanInput {
  /** Oldest first: the order the replies go out in. */
  readonly members: readonly PlanMember[];
  readonly source: ReplySource;
  readonly config: Config;
  readonly accounts: ReadonlyMap<string, Pick<PlatformAccount, 'id' | 'platform'>>;
  /** Contacts within the author cooldown that may concern the members' authors. */
  readonly contacts: readonly ContactRecord[];
  /** The authors of the surge's members answered already (each person is answered once per surge). */
  readonly answered: readonly { readonly platform: Platform; readonly id: string; readonly handle: string }[];
  /** Replies per platform that count against today's cap already. */
  readonly countedToday: Partial<Record<Platform, number>>;
  /** The latest due time already taken per account. */
  readonly latestDue: ReadonlyMap<string, Date>;
  readonly intervalMs: number;
  readonly now: Date;
}

/** Suppression reasons asked again when replying (a too-old post or today's cap are judged otherwise). */
const STILL_SUPPRESSING = [
  'own_account',
  'do_not_contact',
  'repost',
  'author_cooldown',
] as const satisfies readonly (SuppressionReason & SurgeSkipReason)[];

export function planSurgeReplies(input: SurgeReplyPlanInput): {
  replies: PlannedReply[];
  skips: SurgeSkip[];
} {
  const { config, now } = input;
  const policy = suppressionPolicyOf(config);
  // The people answered: by account, and as contacts "now" for the cooldown's wider notion of a person
  // (linked accounts, the same handle on another platform), which applies when the cooldown is on.
  const at = now.toISOString();
  const answeredAccounts = new Set(input.answered.map((a) => `${a.platform}:${a.id}`));
  const answeredContacts: ContactRecord[] = input.answered.map((a) => ({
    platform: a.platform,
    authorId: a.id,
    handle: a.handle,
    at,
  }));
  const samePerson = (match: MatchRecord) =>
    answeredAccounts.has(`${match.platform}:${match.post.author.id}`) ||
    (answeredContacts.length > 0 &&
      policy
        .check(match.post, { now, contactHistory: answeredContacts, repliesToday: {} })
        .reasons.includes('author_cooldown'));
  const counted: Partial<Record<Platform, number>> = { ...input.countedToday };
  const nextDue = new Map<string, number>();
  const replies: PlannedReply[] = [];
  const skips: SurgeSkip[] = [];
  const skip = (matchId: string, reason: SurgeSkipReason, params?: Record<string, string | number>) =>
    skips.push({ matchId, reason, ...(params === undefined ? {} : { params }) });

  for (const { match, status, replied } of input.members) {
    const refusal = replyRefusal({ status, replied, suppressed: match.suppressed });
    if (refusal !== null) {
      skip(match.id, refusal);
      continue;
    }
    const account = match.accountId === null ? undefined : input.accounts.get(match.accountId);
    if (account === undefined) {
      skip(match.id, 'no_account');
      continue;
    }
    const verdict = policy.check(match.post, { now, contactHistory: input.contacts, repliesToday: {} });
    const reason = STILL_SUPPRESSING.find((r) => verdict.reasons.includes(r));
    if (reason !== undefined) {
      skip(
        match.id,
        reason,
        reason === 'author_cooldown' ? { hours: config.suppression.authorCooldownHours } : undefined,
      );
      continue;
    }
    if (samePerson(match)) {
      skip(match.id, 'same_person', { handle: match.post.author.handle });
      continue;
    }
    const drafted = draft(match, input.source, config);
    if (drafted === null) {
      skip(match.id, 'no_template', { category: input.source.category });
      continue;
    }
    const problem = checkReplyText(match, drafted.text, config);
    if (problem !== null) {
      skip(match.id, problem.code as SurgeSkipReason, { ...problem.params });
      continue;
    }
    const cap = config.suppression.dailyReplyCap[match.platform];
    const today = counted[match.platform] ?? 0;
    if (cap !== undefined && today >= cap) {
      skip(match.id, 'daily_cap', { cap, platform: match.platform });
      continue;
    }
    counted[match.platform] = today + 1;
    answeredAccounts.add(`${match.platform}:${match.post.author.id}`);
    answeredContacts.push({
      platform: match.platform,
      authorId: match.post.author.id,
      handle: match.post.author.handle,
      at,
    });
    // One reply per interval on each account: after the ones paced there already, the first at once.
    const previous = nextDue.get(account.id) ?? input.latestDue.get(account.id)?.getTime();
    const due = previous === undefined ? now.getTime() : Math.max(now.getTime(), previous + input.intervalMs);
    nextDue.set(account.id, due);
    replies.push({
      matchId: match.id,
      accountId: account.id,
      platform: match.platform,
      text: drafted.text,
      category: drafted.category,
      template: drafted.template,
      dueAt: new Date(due),
    });
  }
  return { replies, skips };
}

/** The member's text: the written one with its placeholders filled, or its template of the category. */
function draft(
  match: MatchRecord,
  source: ReplySource,
  config: Config,
): { text: string; category: Category; template: Template | undefined } | null {
  if (source.kind === 'category') {
    const { template, text } = replyDraft(match, source.category, config);
    return template === undefined ? null : { text: text.trim(), category: source.category, template };
  }
  const watchId = match.decision.watches[0] ?? '';
  const watch = config.watches.find((w) => w.id === watchId);
  const text = renderTemplate(
    { text: source.text },
    { post: match.post, watch: { id: watch?.id ?? watchId, name: watch?.name }, variables: config.variables },
  );
  return { text: text.trim(), category: source.category, template: source.template };
}

/** How a reply to the members comes out on one platform: its longest, the limit, how many are too long. */
export interface SurgeReplyLength {
  readonly platform: Platform;
  readonly longest: number;
  readonly limit: number;
  /** Members whose reply would be too long (or not postable): they would be left out. */
  readonly over: number;
}

/**
 * Measures a reply to these members the platform's way, per member (its name filled in, on Mastodon
 * with its @handle in front) as the reply will check it: the form's live counter.
 */
export function measureSurgeReply(
  members: readonly MatchRecord[],
  source: ReplySource,
  config: Config,
): SurgeReplyLength[] {
  const byPlatform = new Map<Platform, { longest: number; limit: number; over: number }>();
  for (const match of members) {
    const drafted = draft(match, source, config);
    if (drafted === null) continue;
    const measured = measureReplyTo(
      drafted.text,
      { platform: match.platform, authorHandle: match.post.author.handle },
      { maxCharacters: config.platforms.mastodon.maxCharacters },
    );
    const seen = byPlatform.get(match.platform) ?? { longest: 0, limit: measured.limit, over: 0 };
    byPlatform.set(match.platform, {
      longest: Math.max(seen.longest, measured.length),
      limit: measured.limit,
      over: seen.over + (checkReplyText(match, drafted.text, config) === null ? 0 : 1),
    });
  }
  return [...byPlatform]
    .map(([platform, m]) => ({ platform, ...m }))
    .sort((a, b) => a.platform.localeCompare(b.platform));
}

/** A reply to a surge's members: whom (`matchIds`, or `all` still waiting) and what (see ReplySource). */
export interface SurgeReplyInput {
  readonly matchIds?: unknown;
  /** Every member still waiting (true, or a checkbox's "on"). */
  readonly all?: unknown;
  /** The reply, its placeholders ({author.name}…) filled per member; empty: the template's text. */
  readonly text?: unknown;
  readonly templateId?: unknown;
  /** Without text and template: each member gets its template of this category (default guidance). */
  readonly category?: unknown;
}

/**
 * The most members one reply to the members answers (the rest stay waiting for the next press): one
 * transaction of about a second here (500 took 2.3 s on the 2-core test machine), well within the
 * 3 s Discord gives an interaction, and at the default pacing still 100 minutes of replies per account.
 */
export const MAX_SURGE_REPLIES = 200;

const invalid = (problems: DeskProblem[]): DeskFailure => ({ ok: false, code: 'invalid', problems });
const present = (value: unknown) => value !== undefined && value !== null && value !== '';

/** The text of a reply to the members (checked once; filled per member later), or the form's problems. */
export function replySourceOf(input: SurgeReplyInput, config: Config): ReplySource | DeskFailure {
  const problems: DeskProblem[] = [];
  const template = present(input.templateId)
    ? config.templates.find((tpl) => tpl.id === input.templateId)
    : undefined;
  if (present(input.templateId) && template === undefined)
    problems.push({ field: 'templateId', code: 'unknown_template' });
  let category: Category = template?.category ?? 'guidance';
  if (present(input.category)) {
    const parsed = categorySchema.safeParse(input.category);
    if (parsed.success) category = parsed.data;
    else problems.push({ field: 'category', code: 'unknown_category' });
  }
  const written = typeof input.text === 'string' ? input.text.replace(/\r\n?/gu, '\n').trim() : '';
  const text = written !== '' ? written : (template?.text ?? '');
  if (text.length > MAX_REPLY_INPUT)
    problems.push({ field: 'text', code: 'input_too_long', params: { max: MAX_REPLY_INPUT } });
  else if (text !== '') {
    const [bad] = checkTemplateText(text, Object.keys(config.variables));
    if (bad !== undefined)
      problems.push({
        field: 'text',
        code: 'bad_placeholder',
        params: { placeholder: text.slice(bad.offset, bad.offset + Math.max(1, bad.length)) },
      });
  }
  if (problems.length > 0) return invalid(problems);
  if (text !== '') return { kind: 'text', text, category, ...(template ? { template } : {}) };
  // Nothing written and no template chosen: each member's own template of the category.
  return { kind: 'category', category };
}

/** The members to answer, oldest first, or the selection's problem. */
export function selectMembers(
  members: readonly SurgeMember[],
  input: SurgeReplyInput,
): { ids: string[]; remaining: number } | DeskFailure {
  if (input.all === true || input.all === 'on' || input.all === 'true' || input.all === '1') {
    const waiting = members.filter((m) => m.status === 'new' && m.reply === null);
    if (waiting.length === 0) return { ok: false, code: 'nothing_waiting' };
    return {
      ids: waiting.slice(0, MAX_SURGE_REPLIES).map((m) => m.id),
      remaining: Math.max(0, waiting.length - MAX_SURGE_REPLIES),
    };
  }
  const raw = Array.isArray(input.matchIds) ? input.matchIds : [input.matchIds];
  const chosen = new Set(raw.filter((id): id is string => typeof id === 'string' && id !== ''));
  if (chosen.size === 0) return invalid([{ field: 'members', code: 'no_members' }]);
  if (chosen.size > MAX_SURGE_REPLIES)
    return invalid([{ field: 'members', code: 'too_many_members', params: { max: MAX_SURGE_REPLIES } }]);
  const known = new Set(members.map((m) => m.id));
  if ([...chosen].some((id) => !known.has(id))) return invalid([{ field: 'members', code: 'not_member' }]);
  return { ids: members.filter((m) => chosen.has(m.id)).map((m) => m.id), remaining: 0 };
}
