import type {
  AuditEntry,
  CaseEvent,
  DashboardSurges,
  MatchRecord,
  ReplyRecord,
  Repositories,
  ReviewDecision,
  ReviewMessageRef,
} from '@kikimimi/db';
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { AppEnv, Lang, SessionUser, WebDeps } from '../../context.ts';
import { clockText } from '../../format.ts';
import { t } from '../../i18n.ts';
import './messages.ts';

export type C = Context<AppEnv>;

export const depsOf = (c: C): WebDeps => c.get('deps');

/** The signed-in user; requireRole has already refused anonymous requests. */
export function userOf(c: C): SessionUser {
  const user = c.get('user');
  if (user === null) throw new Error('an inbox route ran without a user');
  return user;
}

/** Who decided, as the repositories record it. */

// ---------------------------------------------------------------------------------------------
// Keyset cursors: "<ISO time>|<id>" in base64url, opaque to clients.

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: string } | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/u.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  if (bar < 0) return null;
  const at = new Date(text.slice(0, bar));
  const id = text.slice(bar + 1);
  if (Number.isNaN(at.getTime()) || id === '' || id.length > 100) return null;
  return { at, id };
}

// ---------------------------------------------------------------------------------------------
// Times: rendered on the server in the organisation's time zone (`<time datetime>` carries the instant
// and `data-tz` the zone; the page's small script writes it in the reader's language, same zone).

/** "2026-11-24 17:30 Asia/Tokyo" */
export function zonedText(at: Date, timeZone: string): string {
  return `${clockText(at, timeZone)} ${timeZone}`;
}

export const timeTag = (at: Date | null | undefined, timeZone: string) =>
  at
    ? html`<time datetime="${at.toISOString()}" data-tz="${timeZone}">${zonedText(at, timeZone)}</time>`
    : '';

/** Rewrites every `<time datetime>` in the page's language, in the zone it names (progressive enhancement). */
export const LOCAL_TIME_SCRIPT = `for(const e of document.querySelectorAll('time[datetime][data-tz]')){const d=new Date(e.getAttribute('datetime'));if(!isNaN(d))e.textContent=d.toLocaleString(document.documentElement.lang,{dateStyle:'medium',timeStyle:'short',timeZone:e.dataset.tz})}`;

/** "1 h 30 min" for a number of seconds. */
export function durationText(lang: Lang, seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t(lang, 'dashboard.duration.s', { s });
  const minutes = Math.round(s / 60);
  if (minutes < 60) return t(lang, 'dashboard.duration.m', { m: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t(lang, 'dashboard.duration.hm', { h: hours, m: minutes % 60 });
  return t(lang, 'dashboard.duration.dh', { d: Math.floor(hours / 24), h: hours % 24 });
}

/** A known enum value's label ('inbox.status.new'), the raw value otherwise. */
export function label(c: C | Lang, prefix: string, value: string): string {
  const key = `${prefix}.${value}`;
  const text = t(c, key);
  return text === key ? value : text;
}

// ---------------------------------------------------------------------------------------------
// JSON views of the records (the API): everything a client needs, nothing secret (matches and
// decisions hold none; account credentials are never read here).

export function matchJson(match: MatchRecord) {
  const d = match.decision;
  return {
    id: match.id,
    platform: match.platform,
    postId: match.postId,
    accountId: match.accountId,
    status: match.status,
    priority: match.priority,
    intent: d.intent,
    category: d.category,
    watches: d.watches,
    signals: d.signals,
    model: d.model ?? null,
    escalated: match.escalated,
    escalations: d.escalations,
    suppressed: match.suppressed,
    suppressionReasons: d.suppression.reasons,
    suppressionDetail: d.suppression.detail,
    reviewChannel: d.route.reviewChannel,
    suggestedReply: d.reply,
    createdAt: match.createdAt.toISOString(),
    firstResponseAt: match.firstResponseAt?.toISOString() ?? null,
    caseState: match.caseState,
    assignee: match.assignee,
    followUntil: match.followUntil?.toISOString() ?? null,
    surgeId: match.surgeId ?? null,
    post: {
      url: match.post.url,
      text: match.post.text,
      lang: match.post.lang,
      createdAt: match.post.createdAt,
      author: {
        id: match.post.author.id,
        handle: match.post.author.handle,
        displayName: match.post.author.displayName,
        followers: match.post.author.followers,
      },
    },
  };
}

export const decisionJson = (d: ReviewDecision) => ({
  id: d.id,
  kind: d.kind,
  actor: d.actor,
  detail: d.detail,
  at: d.at.toISOString(),
});

export const replyJson = (r: ReplyRecord) => ({
  id: r.id,
  seq: r.seq,
  target: r.target,
  state: r.state,
  text: r.text,
  url: r.url,
  manualUrl: r.manualUrl,
  error: r.error,
  attempts: r.attempts,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  sentAt: r.sentAt?.toISOString() ?? null,
});

export const caseEventJson = (e: CaseEvent) => ({
  id: e.id,
  kind: e.kind,
  replyId: e.replyId,
  actor: e.actor,
  platform: e.platform,
  postId: e.postId,
  url: e.url,
  authorHandle: e.authorHandle,
  text: e.text,
  reading: e.reading,
  detail: e.detail,
  at: e.at.toISOString(),
});

export const reviewMessageJson = (m: ReviewMessageRef) => ({
  channelId: m.channelId,
  messageId: m.messageId,
  posted: m.messageId !== null,
});

/** Keys whose values never leave the server, whatever the audit detail holds. */
const SECRET_KEY =
  /pass(word|phrase)?|secret|token|credential|authori[sz]ation|cookie|api[_-]?key|private[_-]?key|session/iu;

/** The detail of an audit entry with secret-looking values replaced. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return '[…]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [
        key,
        SECRET_KEY.test(key) ? '[redacted]' : redact(v, depth + 1),
      ]),
    );
  }
  return value;
}

export const auditJson = (e: AuditEntry) => ({
  id: e.id,
  at: e.at.toISOString(),
  actor: e.actor,
  action: e.action,
  target: e.target,
  detail: redact(e.detail),
});

// ---------------------------------------------------------------------------------------------
// The dashboard's statistics: `repos.stats` (createStatsRepository in @kikimimi/db), typed here by
// what the pages read so that this compiles before and after the lead wires it into Repositories.

export interface DashboardView {
  readonly period: {
    readonly from: Date;
    readonly to: Date;
    readonly days: number;
    readonly timeZone: string;
  };
  readonly daily: ReadonlyArray<{
    readonly day: string;
    readonly total: number;
    readonly byPlatform: Readonly<Record<string, number>>;
    readonly byIntent: Readonly<Record<string, number>>;
  }>;
  readonly totals: {
    readonly matches: number;
    readonly suppressed: number;
    readonly unsuppressed: number;
    readonly responded: number;
    readonly responseRate: number | null;
    readonly medianFirstResponseSeconds: number | null;
    readonly escalated: number;
    readonly escalationDecisions: number;
    readonly replies: number;
  };
  readonly replies: ReadonlyArray<{
    readonly category: string;
    readonly templateId: string | null;
    readonly count: number;
    readonly posted: number;
  }>;
  readonly suppressedByReason: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
  /** The period's surges and how much of the figures they make (marked on the page). */
  readonly surges: DashboardSurges;
}

export interface StatsView {
  dashboard(query: { now: Date; days: number; timeZone?: string | undefined }): Promise<DashboardView>;
}

export function statsOf(repos: Repositories): StatsView {
  return repos.stats;
}
