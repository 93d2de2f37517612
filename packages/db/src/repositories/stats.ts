import { timeZoneSchema } from '@kikimimi/rules';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { matches, replies, reviewDecisions } from '../schema.ts';
import { parseDate, parseInput } from './shared.ts';

/*
 * The dashboard's figures, aggregated in PostgreSQL. Volume, response rate, median time to first
 * response, escalated matches and suppression reasons describe the matches that arrived during the
 * period (matches.created_at, a cohort), so that they agree with each other ("of the 1,200 matches of
 * the last 7 days, 80 % got a first response, in a median of 42 minutes"); reply and escalation
 * decisions are counted when they were taken (review_decisions.at).
 *
 * One small statement finds the period's local midnights (PostgreSQL's tz data, DST included), then
 * four run in parallel on the pool, the first three a range scan of matches(created_at):
 *  - per day × platform × intent with FILTERed counts, hashed (≤ days × 10 groups), summed three ways;
 *  - the median (percentile_cont) over the responded matches;
 *  - suppression reasons (unnest over the suppressed matches);
 *  - reply/escalation decisions by category and template, joined to their replies for the outcome.
 * The range bounds are plain parameters so that the planner sees how many rows they cover.
 *
 * With 100,000 matches in the period each statement reads the whole range; heap rows are wide (the
 * decision jsonb), so two indexes make the scans index-only / narrow (suggested to the lead):
 *   CREATE INDEX matches_created_stats_idx ON matches (created_at)
 *     INCLUDE (platform, intent, suppressed, escalated, first_response_at, suppression_reasons);
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
}

/** Aggregates for the console's dashboard. */
export interface StatsRepository {
  dashboard(query: DashboardQuery): Promise<DashboardStats>;
}

const querySchema = z.object({
  days: z.number().int().min(1).max(366),
  timeZone: timeZoneSchema.default('UTC'),
});

const int = (value: unknown) => Number(value ?? 0);

/** The one row of the grouped statement (JSON built by PostgreSQL). */
interface MainResult {
  readonly byPlatform: ReadonlyArray<{ b: number; k: string; n: number }>;
  readonly byIntent: ReadonlyArray<{ b: number; k: string; n: number }>;
  readonly byDay: ReadonlyArray<{ b: number; n: number }>;
  readonly totals: { n: number; suppressed: number; responded: number; escalated: number };
}

export function createStatsRepository(db: Database): StatsRepository {
  return {
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

      const [grouped, median, reasons, decided] = await Promise.all([
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
        db.execute<{ median: number | string | null }>(sql`
          SELECT percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM ${matches.firstResponseAt} - ${matches.createdAt})) AS median
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
      const unsuppressed = totals.n - totals.suppressed;
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
      };
    },
  };
}
