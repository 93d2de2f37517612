import { timeZoneSchema } from '@kikimimi/rules';
import { type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { caseEvents, matches, posts, replies, reviewDecisions } from '../schema.ts';
import type { Actor, AnswerReading, CaseState } from '../types.ts';
import { isUuid, parseDate, parseInput } from './shared.ts';
import { type SurgePeriodSummary, surgesInPeriod } from './surges.ts';

/*
 * The dashboard's figures, aggregated in PostgreSQL. Volume, response rate, median time to first
 * response, escalated matches and suppression reasons describe the matches that arrived during the
 * period (matches.created_at, a cohort), so that they agree with each other ("of the 1,200 matches of
 * the last 7 days, 80 % got a first response, in a median of 42 minutes"); reply and escalation
 * decisions are counted when they were taken (review_decisions.at).
 *
 * One small statement finds the period's local midnights (PostgreSQL's tz data, DST included), then
 * six run in parallel on the pool, the first three a range scan of matches(created_at):
 *  - per day × platform × intent with FILTERed counts, hashed (≤ days × 10 groups), summed three ways;
 *  - the median (percentile_cont) over the responded matches, and over those outside surges;
 *  - suppression reasons (unnest over the suppressed matches);
 *  - reply/escalation decisions by category and template, joined to their replies for the outcome;
 *  - surge members per day (matches(surge_id, created_at): only members are read);
 *  - the period's surges with their handling (surges.ts `surgesInPeriod`, a few rows).
 * The range bounds are plain parameters so that the planner sees how many rows they cover.
 *
 * With 100,000 matches in the period each statement reads the whole range; heap rows are wide (the
 * decision jsonb), so two indexes make the scans index-only / narrow (suggested to the lead; surge_id
 * for the surge figures: without it they cost 10–25 % more, measured with 10 surges of 1,000):
 *   CREATE INDEX matches_created_stats_idx ON matches (created_at)
 *     INCLUDE (platform, intent, suppressed, escalated, first_response_at, suppression_reasons, surge_id);
 *   CREATE INDEX review_decisions_kind_at_idx ON review_decisions (kind, at);
 */

/** What to aggregate: the `days` calendar days (in `timeZone`) ending with the one `now` falls in. */
export interface DashboardQuery {
  readonly now: Date;
  /** 1–366. */
  readonly days: number;
  /** IANA time zone the days are counted in (`Asia/Tokyo`); default UTC. */
  readonly timeZone?: string | undefined;
}

/** Matches that arrived on one day, split both ways. */
export interface DailyVolume {
  /** `YYYY-MM-DD` in the query's time zone. */
  readonly day: string;
  readonly total: number;
  readonly byPlatform: Readonly<Record<string, number>>;
  readonly byIntent: Readonly<Record<string, number>>;
}

export interface DashboardTotals {
  readonly matches: number;
  readonly suppressed: number;
  readonly unsuppressed: number;
  /** Unsuppressed matches with a first response (reply, manual reply, escalation or dismissal). */
  readonly responded: number;
  /** responded / unsuppressed; null without unsuppressed matches. */
  readonly responseRate: number | null;
  /** Median of first_response_at − created_at over the responded matches, in seconds. */
  readonly medianFirstResponseSeconds: number | null;
  /** Matches an escalation rule fired for or a reviewer escalated. */
  readonly escalated: number;
  /** Escalation decisions taken by reviewers (Discord or web) on these matches. */
  readonly escalationDecisions: number;
  /** Replies decided (one per match at most). */
  readonly replies: number;
}

export interface RepliesByTemplate {
  /** The reply decision's category (thanks, apology, guidance, custom). */
  readonly category: string;
  /** The template the reviewer started from; null when none was recorded (Discord, free text). */
  readonly templateId: string | null;
  readonly count: number;
  /** Of them, posted (sent by the API or marked done by hand). */
  readonly posted: number;
}

export interface DashboardStats {
  readonly period: {
    /** First instant of the first day. */
    readonly from: Date;
    /** `now`: the end (exclusive) of the period. */
    readonly to: Date;
    readonly days: number;
    readonly timeZone: string;
  };
  /** Every day of the period, oldest first, days without matches included. */
  readonly daily: readonly DailyVolume[];
  readonly totals: DashboardTotals;
  /** Most used first. */
  readonly replies: readonly RepliesByTemplate[];
  /** Suppressed matches per reason (a match may have several), most frequent first. */
  readonly suppressedByReason: ReadonlyArray<{ readonly reason: string; readonly count: number }>;
  /** The period's surges, and how much of the figures above they make. */
  readonly surges: DashboardSurges;
}

/** Surges listed on the dashboard at most (the console's /surges lists every one). */
export const DASHBOARD_SURGES = 20;

/**
 * What surges make of a dashboard's figures: a surge's members are many matches reviewed as one, so
 * they swell the match count and move the response rate and time in bulk (one "dismiss all" answers
 * hundreds at once). The same figures over the matches reviewed one by one are given beside.
 */
export interface DashboardSurges {
  /** Matches of the period that are members of a surge (part of totals.matches; never suppressed). */
  readonly matches: number;
  /** Of them, with a first response. */
  readonly responded: number;
  /** Surges those matches belong to. */
  readonly count: number;
  /** The response rate and median time to first response over the unsuppressed matches outside surges. */
  readonly outside: {
    readonly unsuppressed: number;
    readonly responded: number;
    readonly responseRate: number | null;
    readonly medianFirstResponseSeconds: number | null;
  };
  /** Per day of `daily`, same order: matches in surges and how many surges they belong to. */
  readonly daily: ReadonlyArray<{ readonly day: string; readonly matches: number; readonly surges: number }>;
  /** Surges with members posted in the period, newest first, at most DASHBOARD_SURGES. */
  readonly list: readonly SurgePeriodSummary[];
  /** More surges than listed. */
  readonly more: boolean;
}

/** Aggregates for the console's dashboard. */
export interface StatsRepository {
  dashboard(query: DashboardQuery): Promise<DashboardStats>;
  /** The instants a dashboard period covers: the first local midnight of its `days` days, and `now`. */
  period(query: DashboardQuery): Promise<{ from: Date; to: Date }>;
  /**
   * The latest digest period that ended by `now`: it ends at `hour`:00 in `timeZone` (weekly: on a
   * Monday) and starts a day (a week) of local time earlier, DST included.
   */
  digestPeriod(query: DigestPeriodQuery): Promise<{ from: Date; to: Date }>;
  /** The effect of our replies sent during the period: reactions, positive reactions, time to react. */
  effect(query: EffectQuery): Promise<EffectStats>;
  /** What customers said back during the period (answers to our replies), newest first, keyset paged. */
  answers(query: AnswersQuery, page?: StatsPage): Promise<CustomerAnswer[]>;
  /** Cases tagged as customer voices (ご意見) during the period, newest first, keyset paged. */
  voices(query: VoicesQuery, page?: StatsPage): Promise<CustomerVoice[]>;
}

export interface DigestPeriodQuery {
  readonly now: Date;
  readonly every: 'daily' | 'weekly';
  /** 0–23. */
  readonly hour: number;
  readonly timeZone: string;
}

/**
 * The effect figures' selection: the replies sent in [from, to), of matches on `platform`, of `watch`,
 * sent from `templateId` (the template of the reply decision that created the reply; '' for replies
 * written without a template).
 */
export interface EffectQuery {
  readonly from: Date;
  readonly to: Date;
  readonly platform?: string | undefined;
  readonly watch?: string | undefined;
  readonly templateId?: string | undefined;
}

export const ANSWER_KINDS = ['thanks', 'unhappy', 'question', 'other'] as const;
export type AnswerKind = (typeof ANSWER_KINDS)[number];

/** The answers received in [from, to) to replies selected like {@link EffectQuery}'s, of one reading. */
export interface AnswersQuery extends EffectQuery {
  readonly kind?: AnswerKind | undefined;
}

/** Voices tagged in [from, to), of matches on `platform` / of `watch`, for `department`. */
export interface VoicesQuery {
  readonly from: Date;
  readonly to: Date;
  readonly platform?: string | undefined;
  readonly watch?: string | undefined;
  readonly department?: string | undefined;
}

/** A keyset page: `limit` rows older than `before`. */
export interface StatsPage {
  /** 1–1000 (default 100). */
  readonly limit?: number;
  readonly before?: { readonly at: Date; readonly id: string } | undefined;
}

/** The effect of one group of replies (all, one platform, one template). */
export interface EffectFigures {
  /** Replies sent by the API (follow-ups included); replies posted by hand cannot be followed. */
  readonly sent: number;
  /** Of them, follow-ups (a reply to the customer's answer). */
  readonly followUps: number;
  /** Replies the customer reacted to: answered, liked or reposted (each reply counted once). */
  readonly reacted: number;
  readonly answered: number;
  readonly liked: number;
  readonly reposted: number;
  /** Replies answered with thanks or liked. */
  readonly positive: number;
  /** reacted / sent; null without replies. */
  readonly reactionRate: number | null;
  /** positive / sent; null without replies. */
  readonly positiveRate: number | null;
  /** From our reply to the customer's first reaction (seconds), over the replies reacted to. */
  readonly medianReactionSeconds: number | null;
  readonly p90ReactionSeconds: number | null;
}

export interface EffectStats {
  readonly period: { readonly from: Date; readonly to: Date };
  readonly totals: EffectFigures;
  /** Most replies first. */
  readonly byPlatform: ReadonlyArray<EffectFigures & { readonly platform: string }>;
  /** Most replies first; templateId null: written without a template. */
  readonly byTemplate: ReadonlyArray<EffectFigures & { readonly templateId: string | null }>;
  /** The answers to these replies by reading (thanks, unhappy, question, other); each answer counted. */
  readonly answersByKind: Readonly<Record<AnswerKind, number>>;
}

/** A customer's answer to one of our replies, with the reply and the reading. */
export interface CustomerAnswer {
  readonly id: string;
  readonly matchId: string;
  readonly at: Date;
  readonly platform: string;
  readonly authorHandle: string | null;
  readonly text: string;
  readonly url: string | null;
  readonly reading: AnswerReading | null;
  readonly reply: {
    readonly id: string;
    readonly seq: number;
    readonly text: string;
    readonly sentAt: Date | null;
    readonly templateId: string | null;
  };
}

/** A case a reviewer tagged as a customer voice for a department. */
export interface CustomerVoice {
  readonly id: string;
  readonly matchId: string;
  readonly at: Date;
  readonly department: string;
  readonly summary: string;
  readonly actor: Actor | null;
  readonly platform: string;
  readonly caseState: CaseState;
  readonly author: { readonly handle: string; readonly displayName: string };
  readonly postText: string;
  readonly postUrl: string;
  /** The customer's latest answer in the case, if any. */
  readonly lastAnswer: { readonly text: string; readonly kind: AnswerKind | null } | null;
}

const querySchema = z.object({
  days: z.number().int().min(1).max(366),
  timeZone: timeZoneSchema.default('UTC'),
});

const int = (value: unknown) => Number(value ?? 0);

const periodSchema = z
  .object({
    from: z.date(),
    to: z.date(),
    platform: z.string().min(1).max(40).optional(),
    watch: z.string().min(1).max(200).optional(),
  })
  .refine((q) => q.from.getTime() <= q.to.getTime(), { message: 'from must not be after to', path: ['to'] })
  .refine((q) => q.to.getTime() - q.from.getTime() <= 400 * 86_400_000, {
    message: 'at most 400 days',
    path: ['to'],
  });
const effectSchema = z.intersection(periodSchema, z.object({ templateId: z.string().max(200).optional() }));
const answersSchema = z.intersection(effectSchema, z.object({ kind: z.enum(ANSWER_KINDS).optional() }));
const voicesSchema = z.intersection(
  periodSchema,
  z.object({ department: z.string().trim().min(1).max(200).optional() }),
);
const digestPeriodSchema = z.object({
  every: z.enum(['daily', 'weekly']),
  hour: z.number().int().min(0).max(23),
  timeZone: timeZoneSchema,
});

const pageSchema = z.object({
  limit: z.number().int().min(1).max(1000).default(100),
  before: z.object({ at: z.date(), id: z.string() }).optional(),
});

/** The template of a reply: the one of the reply decision that created it (same transaction, same instant). */
const templateOf = (reply: SQL) => sql`(
  SELECT nullif(d.detail->>'templateId', '') FROM ${reviewDecisions} d
  WHERE d.match_id = ${reply}.match_id AND d.kind = 'reply' AND d.at <= ${reply}.created_at
  ORDER BY d.at DESC, d.id DESC LIMIT 1)`;

/** The selection of replies (alias r, joined to matches m) an effect query asks for. */
function replyFilter(q: {
  platform?: string | undefined;
  watch?: string | undefined;
  templateId?: string | undefined;
}) {
  const parts: SQL[] = [];
  if (q.platform !== undefined) parts.push(sql`m.platform = ${q.platform}`);
  if (q.watch !== undefined) parts.push(sql`${q.watch} = ANY(m.watches)`);
  if (q.templateId !== undefined) {
    parts.push(
      q.templateId === ''
        ? sql`${templateOf(sql`r`)} IS NULL`
        : sql`${templateOf(sql`r`)} IS NOT DISTINCT FROM ${q.templateId}`,
    );
  }
  return parts.length === 0 ? sql`TRUE` : sql.join(parts, sql` AND `);
}

interface FiguresRow {
  platform: string | null;
  template_id: string | null;
  by_platform: number;
  by_template: number;
  sent: number;
  follow_ups: number;
  reacted: number;
  answered: number;
  liked: number;
  reposted: number;
  positive: number;
  median: number | string | null;
  p90: number | string | null;
}

function figuresOf(row: FiguresRow | undefined): EffectFigures {
  const sent = int(row?.sent);
  const reacted = int(row?.reacted);
  const positive = int(row?.positive);
  const seconds = (v: number | string | null | undefined) =>
    v === null || v === undefined ? null : Number(v);
  return {
    sent,
    followUps: int(row?.follow_ups),
    reacted,
    answered: int(row?.answered),
    liked: int(row?.liked),
    reposted: int(row?.reposted),
    positive,
    reactionRate: sent === 0 ? null : reacted / sent,
    positiveRate: sent === 0 ? null : positive / sent,
    medianReactionSeconds: seconds(row?.median),
    p90ReactionSeconds: seconds(row?.p90),
  };
}

const readingOf = (value: unknown): AnswerReading | null =>
  value !== null && typeof value === 'object' && typeof (value as { kind?: unknown }).kind === 'string'
    ? (value as AnswerReading)
    : null;

/** `(at, id) < before` for pages ordered by at DESC, id DESC. */
function olderThan(alias: SQL, before: { at: Date; id: string } | undefined) {
  if (before === undefined) return sql`TRUE`;
  if (!isUuid(before.id)) return sql`${alias}.at < ${before.at}`;
  return sql`(${alias}.at, ${alias}.id) < (${before.at}, ${before.id}::uuid)`;
}

/** The one row of the grouped statement (JSON built by PostgreSQL). */
interface MainResult {
  readonly byPlatform: ReadonlyArray<{ b: number; k: string; n: number }>;
  readonly byIntent: ReadonlyArray<{ b: number; k: string; n: number }>;
  readonly byDay: ReadonlyArray<{ b: number; n: number }>;
  readonly totals: { n: number; suppressed: number; responded: number; escalated: number };
}

export function createStatsRepository(db: Database): StatsRepository {
  async function periodBounds(input: DashboardQuery) {
    const now = parseDate(input?.now, 'period end');
    const { days, timeZone } = parseInput(
      querySchema,
      { days: input?.days, timeZone: input?.timeZone },
      'period',
    );
    const bounds = await db.execute<{ from: Date | string }>(sql`
      SELECT (date_trunc('day', ${now}::timestamptz AT TIME ZONE ${timeZone})
              - make_interval(days => ${days - 1})) AT TIME ZONE ${timeZone} AS "from"`);
    return { from: new Date((bounds.rows[0] as { from: Date | string }).from), to: now };
  }

  return {
    period: periodBounds,

    async digestPeriod(input) {
      const now = parseDate(input?.now, 'digest time');
      const { every, hour, timeZone } = parseInput(
        digestPeriodSchema,
        { every: input?.every, hour: input?.hour, timeZone: input?.timeZone },
        'digest period',
      );
      // In local time: the period's end this day (this week's Monday), or the one before if still ahead.
      const unit = every === 'daily' ? 'day' : 'week';
      const length = every === 'daily' ? 1 : 7;
      const result = await db.execute<{ from: Date | string; to: Date | string }>(sql`
        WITH l AS (SELECT ${now}::timestamptz AT TIME ZONE ${timeZone} AS t),
        e AS (
          SELECT CASE WHEN date_trunc(${unit}, t) + make_interval(hours => ${hour}) <= t
                      THEN date_trunc(${unit}, t) + make_interval(hours => ${hour})
                      ELSE date_trunc(${unit}, t) + make_interval(hours => ${hour}) - make_interval(days => ${length})
                 END AS end_local
          FROM l
        )
        SELECT (end_local - make_interval(days => ${length})) AT TIME ZONE ${timeZone} AS "from",
               end_local AT TIME ZONE ${timeZone} AS "to"
        FROM e`);
      const row = result.rows[0] as { from: Date | string; to: Date | string };
      return { from: new Date(row.from), to: new Date(row.to) };
    },

    async effect(input) {
      const q = parseInput(effectSchema, input, 'effect query');
      // One row per reply of the selection with its first reaction and what kinds it drew, then the
      // figures over all, per platform and per template (GROUPING SETS: one scan).
      const result = await db.execute<FiguresRow & Record<string, unknown>>(sql`
        WITH sel AS (
          SELECT r.id, r.seq, r.sent_at, m.platform, ${templateOf(sql`r`)} AS template_id
          FROM ${replies} r JOIN ${matches} m ON m.id = r.match_id
          WHERE r.state = 'sent' AND r.sent_at >= ${q.from} AND r.sent_at < ${q.to} AND ${replyFilter(q)}
        ), per AS (
          SELECT sel.*, x.first_at, coalesce(x.answered, false) AS answered, coalesce(x.liked, false) AS liked,
                 coalesce(x.reposted, false) AS reposted, coalesce(x.positive, false) AS positive
          FROM sel LEFT JOIN LATERAL (
            SELECT min(e.at) AS first_at,
                   bool_or(e.kind = 'answer') AS answered,
                   bool_or(e.kind = 'like') AS liked,
                   bool_or(e.kind = 'repost') AS reposted,
                   bool_or(e.kind = 'like' OR (e.kind = 'answer' AND e.classification->>'kind' = 'thanks')) AS positive
            FROM ${caseEvents} e
            WHERE e.reply_id = sel.id AND e.kind IN ('answer', 'like', 'repost')
          ) x ON TRUE
        )
        -- greatest() skips NULLs: the FILTER keeps replies without a reaction out of the percentiles.
        SELECT platform, template_id,
               GROUPING(platform)::int AS by_platform, GROUPING(template_id)::int AS by_template,
               count(*)::int AS sent,
               count(*) FILTER (WHERE seq > 1)::int AS follow_ups,
               count(first_at)::int AS reacted,
               count(*) FILTER (WHERE answered)::int AS answered,
               count(*) FILTER (WHERE liked)::int AS liked,
               count(*) FILTER (WHERE reposted)::int AS reposted,
               count(*) FILTER (WHERE positive)::int AS positive,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY greatest(0, extract(epoch FROM first_at - sent_at)))
                 FILTER (WHERE first_at IS NOT NULL) AS median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY greatest(0, extract(epoch FROM first_at - sent_at)))
                 FILTER (WHERE first_at IS NOT NULL) AS p90
        FROM per
        GROUP BY GROUPING SETS ((), (platform), (template_id))`);
      const kinds = await db.execute<{ kind: string; n: number }>(sql`
        SELECT e.classification->>'kind' AS kind, count(*)::int AS n
        FROM ${replies} r JOIN ${matches} m ON m.id = r.match_id
        JOIN ${caseEvents} e ON e.reply_id = r.id AND e.kind = 'answer'
        WHERE r.state = 'sent' AND r.sent_at >= ${q.from} AND r.sent_at < ${q.to} AND ${replyFilter(q)}
        GROUP BY 1`);
      const rows = result.rows;
      // GROUPING(x) is 1 when x is rolled up: the grand total has both, a platform row only template_id.
      const total = rows.find((row) => int(row.by_platform) === 1 && int(row.by_template) === 1);
      const bySent = (a: { sent: number }, b: { sent: number }) => b.sent - a.sent;
      const answersByKind = Object.fromEntries(ANSWER_KINDS.map((k) => [k, 0])) as Record<AnswerKind, number>;
      for (const row of kinds.rows) {
        const kind = (ANSWER_KINDS as readonly string[]).includes(row.kind)
          ? (row.kind as AnswerKind)
          : 'other';
        answersByKind[kind] += int(row.n);
      }
      return {
        period: { from: q.from, to: q.to },
        totals: figuresOf(total),
        byPlatform: rows
          .filter((row) => int(row.by_platform) === 0)
          .map((row) => ({ platform: row.platform as string, ...figuresOf(row) }))
          .sort((a, b) => bySent(a, b) || a.platform.localeCompare(b.platform)),
        byTemplate: rows
          .filter((row) => int(row.by_template) === 0)
          .map((row) => ({ templateId: row.template_id, ...figuresOf(row) }))
          .sort(
            (a, b) =>
              bySent(a, b) ||
              // Replies without a template after the templates.
              Number(a.templateId === null) - Number(b.templateId === null) ||
              String(a.templateId).localeCompare(String(b.templateId)),
          ),
        answersByKind,
      };
    },

    async answers(input, pageInput) {
      const q = parseInput(answersSchema, input, 'answers query');
      const page = parseInput(pageSchema, pageInput ?? {}, 'page');
      const result = await db.execute<{
        id: string;
        match_id: string;
        at: Date | string;
        platform: string;
        author_handle: string | null;
        text: string;
        url: string | null;
        classification: unknown;
        reply_id: string;
        seq: number;
        reply_text: string;
        sent_at: Date | string | null;
        template_id: string | null;
      }>(sql`
        SELECT e.id, e.match_id, e.at, m.platform, e.author_handle, e.text, e.url, e.classification,
               r.id AS reply_id, r.seq, r.text AS reply_text, r.sent_at, ${templateOf(sql`r`)} AS template_id
        FROM ${caseEvents} e
        JOIN ${replies} r ON r.id = e.reply_id
        JOIN ${matches} m ON m.id = e.match_id
        WHERE e.kind = 'answer' AND e.at >= ${q.from} AND e.at < ${q.to} AND ${replyFilter(q)}
          ${q.kind === undefined ? sql`` : sql`AND coalesce(e.classification->>'kind', 'other') = ${q.kind}`}
          AND ${olderThan(sql`e`, page.before)}
        ORDER BY e.at DESC, e.id DESC
        LIMIT ${page.limit}`);
      return result.rows.map((row) => ({
        id: row.id,
        matchId: row.match_id,
        at: new Date(row.at),
        platform: row.platform,
        authorHandle: row.author_handle,
        text: row.text,
        url: row.url,
        reading: readingOf(row.classification),
        reply: {
          id: row.reply_id,
          seq: int(row.seq),
          text: row.reply_text,
          sentAt: row.sent_at === null ? null : new Date(row.sent_at),
          templateId: row.template_id,
        },
      }));
    },

    async voices(input, pageInput) {
      const q = parseInput(voicesSchema, input, 'voices query');
      const page = parseInput(pageSchema, pageInput ?? {}, 'page');
      const filters: SQL[] = [];
      if (q.platform !== undefined) filters.push(sql`m.platform = ${q.platform}`);
      if (q.watch !== undefined) filters.push(sql`${q.watch} = ANY(m.watches)`);
      if (q.department !== undefined) filters.push(sql`e.detail->>'department' = ${q.department}`);
      const result = await db.execute<{
        id: string;
        match_id: string;
        at: Date | string;
        department: string;
        text: string;
        actor: Actor | null;
        platform: string;
        case_state: string;
        post: { text: string; url: string; author: { handle: string; displayName: string } };
        last_text: string | null;
        last_kind: string | null;
      }>(sql`
        SELECT e.id, e.match_id, e.at, e.detail->>'department' AS department, e.text, e.actor,
               m.platform, m.case_state, p.post, a.text AS last_text, a.classification->>'kind' AS last_kind
        FROM ${caseEvents} e
        JOIN ${matches} m ON m.id = e.match_id
        JOIN ${posts} p ON p.platform = m.platform AND p.post_id = m.post_id
        LEFT JOIN LATERAL (
          SELECT x.text, x.classification FROM ${caseEvents} x
          WHERE x.match_id = e.match_id AND x.kind = 'answer' ORDER BY x.at DESC, x.id DESC LIMIT 1
        ) a ON TRUE
        WHERE e.kind = 'voice' AND e.at >= ${q.from} AND e.at < ${q.to}
          ${filters.length === 0 ? sql`` : sql`AND ${sql.join(filters, sql` AND `)}`}
          AND ${olderThan(sql`e`, page.before)}
        ORDER BY e.at DESC, e.id DESC
        LIMIT ${page.limit}`);
      return result.rows.map((row) => ({
        id: row.id,
        matchId: row.match_id,
        at: new Date(row.at),
        department: row.department,
        summary: row.text,
        actor: row.actor,
        platform: row.platform,
        caseState: row.case_state as CaseState,
        author: { handle: row.post.author.handle, displayName: row.post.author.displayName },
        postText: row.post.text,
        postUrl: row.post.url,
        lastAnswer:
          row.last_text === null
            ? null
            : {
                text: row.last_text,
                kind: (ANSWER_KINDS as readonly string[]).includes(row.last_kind ?? '')
                  ? (row.last_kind as AnswerKind)
                  : null,
              },
      }));
    },

    async dashboard(input) {
      const now = parseDate(input?.now, 'dashboard time');
      const { days, timeZone } = parseInput(
        querySchema,
        { days: input?.days, timeZone: input?.timeZone },
        'dashboard query',
      );

      // The local midnights starting each day of the period, as instants (PostgreSQL's tz data, DST
      // included): the first is where the period starts, and width_bucket files each match under its day.
      const bounds = await db.execute<{ edges: string; from: Date | string; days: string[] }>(sql`
        SELECT array_agg(d AT TIME ZONE ${timeZone} ORDER BY d)::text AS edges,
               min(d) AT TIME ZONE ${timeZone} AS "from",
               array_agg(to_char(d, 'YYYY-MM-DD') ORDER BY d) AS days
        FROM generate_series(
          date_trunc('day', ${now}::timestamptz AT TIME ZONE ${timeZone}) - make_interval(days => ${days - 1}),
          date_trunc('day', ${now}::timestamptz AT TIME ZONE ${timeZone}),
          interval '1 day') AS d`);
      const period = bounds.rows[0] as { edges: string; from: Date | string; days: string[] };
      const from = new Date(period.from);
      // Bounds as plain parameters, so that the planner estimates the range (and picks hashing).
      const inPeriod = sql`${matches.createdAt} >= ${from} AND ${matches.createdAt} < ${now}`;

      const [grouped, median, reasons, decided, surgeDays, surgeList] = await Promise.all([
        // Matches per day × platform × intent with the counts the totals need (≤ days × 10 groups),
        // then summed three ways.
        db.execute<{ stats: MainResult }>(sql`
          WITH g AS (
            SELECT width_bucket(${matches.createdAt}, ${period.edges}::timestamptz[]) AS b,
                   ${matches.platform} AS platform, ${matches.intent} AS intent,
                   count(*)::int AS n,
                   count(*) FILTER (WHERE ${matches.suppressed})::int AS suppressed,
                   count(*) FILTER (WHERE NOT ${matches.suppressed}
                                    AND ${matches.firstResponseAt} IS NOT NULL)::int AS responded,
                   count(*) FILTER (WHERE ${matches.escalated})::int AS escalated
            FROM ${matches} WHERE ${inPeriod}
            GROUP BY 1, 2, 3
          )
          SELECT json_build_object(
            'byPlatform', (SELECT coalesce(json_agg(x), '[]') FROM
              (SELECT b, platform AS k, sum(n)::int AS n FROM g GROUP BY b, platform) x),
            'byIntent', (SELECT coalesce(json_agg(x), '[]') FROM
              (SELECT b, intent AS k, sum(n)::int AS n FROM g GROUP BY b, intent) x),
            'byDay', (SELECT coalesce(json_agg(x), '[]') FROM (SELECT b, sum(n)::int AS n FROM g GROUP BY b) x),
            'totals', (SELECT row_to_json(x) FROM
              (SELECT coalesce(sum(n), 0)::int AS n, coalesce(sum(suppressed), 0)::int AS suppressed,
                      coalesce(sum(responded), 0)::int AS responded,
                      coalesce(sum(escalated), 0)::int AS escalated FROM g) x)
          ) AS stats`),
        db.execute<{ median: number | string | null; outside: number | string | null }>(sql`
          SELECT percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM ${matches.firstResponseAt} - ${matches.createdAt})) AS median,
                 percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM ${matches.firstResponseAt} - ${matches.createdAt}))
                   FILTER (WHERE ${matches.surgeId} IS NULL) AS outside
          FROM ${matches}
          WHERE ${inPeriod} AND NOT ${matches.suppressed} AND ${matches.firstResponseAt} IS NOT NULL`),
        db.execute<{ reason: string; n: number }>(sql`
          SELECT reason, count(*)::int AS n
          FROM ${matches}, unnest(${matches.suppressionReasons}) AS reason
          WHERE ${matches.suppressed} AND ${inPeriod}
          GROUP BY reason ORDER BY n DESC, reason`),
        // Decisions taken during the period: replies by category and template, escalations.
        db.execute<{
          kind: string;
          category: string | null;
          template_id: string | null;
          n: number;
          posted: number;
        }>(sql`
          SELECT d.kind,
                 CASE WHEN d.kind = 'reply' THEN coalesce(nullif(d.detail->>'category', ''), 'custom') END AS category,
                 CASE WHEN d.kind = 'reply' THEN nullif(d.detail->>'templateId', '') END AS template_id,
                 count(*)::int AS n,
                 count(*) FILTER (WHERE r.state IN ('sent', 'manual_done'))::int AS posted
          FROM ${reviewDecisions} d
          LEFT JOIN ${replies} r ON d.kind = 'reply' AND r.match_id = d.match_id
          WHERE d.kind IN ('reply', 'escalate') AND d.at >= ${from} AND d.at < ${now}
          GROUP BY 1, 2, 3
          ORDER BY n DESC, category, template_id NULLS LAST`),
        // Surge members per day and in all (b NULL): hashed per day and surge first, so that only those
        // few groups are sorted for the distinct count.
        db.execute<{
          b: number | null;
          n: number;
          surges: number;
          unsuppressed: number;
          responded: number;
        }>(sql`
          WITH s AS (
            SELECT width_bucket(${matches.createdAt}, ${period.edges}::timestamptz[]) AS b,
                   ${matches.surgeId} AS surge_id, count(*) AS n,
                   count(*) FILTER (WHERE NOT ${matches.suppressed}) AS unsuppressed,
                   count(*) FILTER (WHERE NOT ${matches.suppressed}
                                    AND ${matches.firstResponseAt} IS NOT NULL) AS responded
            FROM ${matches} WHERE ${matches.surgeId} IS NOT NULL AND ${inPeriod}
            GROUP BY 1, 2
          )
          SELECT b, sum(n)::int AS n, count(DISTINCT surge_id)::int AS surges,
                 sum(unsuppressed)::int AS unsuppressed, sum(responded)::int AS responded
          FROM s GROUP BY GROUPING SETS ((b), ())`),
        surgesInPeriod(db, from, now, DASHBOARD_SURGES + 1),
      ]);

      const result = (grouped.rows[0] as { stats: MainResult }).stats;
      // width_bucket counts from 1 for the first day.
      const daily = period.days.map((day) => ({
        day,
        total: 0,
        byPlatform: {} as Record<string, number>,
        byIntent: {} as Record<string, number>,
      }));
      const dayOf = (b: number) => daily[b - 1];
      for (const row of result.byDay) {
        const entry = dayOf(row.b);
        if (entry) entry.total = row.n;
      }
      for (const row of result.byPlatform) {
        const entry = dayOf(row.b);
        if (entry) entry.byPlatform[row.k] = row.n;
      }
      for (const row of result.byIntent) {
        const entry = dayOf(row.b);
        if (entry) entry.byIntent[row.k] = row.n;
      }

      const { totals } = result;
      const medianValue = median.rows[0]?.median ?? null;
      const outsideMedian = median.rows[0]?.outside ?? null;
      const unsuppressed = totals.n - totals.suppressed;
      const surgeDaily = period.days.map((day) => ({ day, matches: 0, surges: 0 }));
      const inSurges = { n: 0, surges: 0, unsuppressed: 0, responded: 0 };
      for (const row of surgeDays.rows) {
        const counts = { matches: int(row.n), surges: int(row.surges) };
        if (row.b === null) {
          inSurges.n = counts.matches;
          inSurges.surges = counts.surges;
          inSurges.unsuppressed = int(row.unsuppressed);
          inSurges.responded = int(row.responded);
        } else {
          const entry = surgeDaily[row.b - 1];
          if (entry) Object.assign(entry, counts);
        }
      }
      const outsideUnsuppressed = unsuppressed - inSurges.unsuppressed;
      const outsideResponded = totals.responded - inSurges.responded;
      const replyRows = decided.rows
        .filter((row) => row.kind === 'reply')
        .map((row) => ({
          category: row.category ?? 'custom',
          templateId: row.template_id,
          count: int(row.n),
          posted: int(row.posted),
        }));
      return {
        period: { from, to: now, days, timeZone },
        daily,
        totals: {
          matches: totals.n,
          suppressed: totals.suppressed,
          unsuppressed,
          responded: totals.responded,
          responseRate: unsuppressed === 0 ? null : totals.responded / unsuppressed,
          medianFirstResponseSeconds: medianValue === null ? null : Number(medianValue),
          escalated: totals.escalated,
          escalationDecisions: decided.rows
            .filter((row) => row.kind === 'escalate')
            .reduce((sum, row) => sum + int(row.n), 0),
          replies: replyRows.reduce((sum, row) => sum + row.count, 0),
        },
        replies: replyRows,
        suppressedByReason: reasons.rows.map((row) => ({ reason: row.reason, count: int(row.n) })),
        surges: {
          matches: int(inSurges.n),
          responded: int(inSurges.responded),
          count: int(inSurges.surges),
          outside: {
            unsuppressed: outsideUnsuppressed,
            responded: outsideResponded,
            responseRate: outsideUnsuppressed === 0 ? null : outsideResponded / outsideUnsuppressed,
            medianFirstResponseSeconds: outsideMedian === null ? null : Number(outsideMedian),
          },
          daily: surgeDaily,
          list: surgeList.slice(0, DASHBOARD_SURGES),
          more: surgeList.length > DASHBOARD_SURGES,
        },
      };
    },
  };
}
