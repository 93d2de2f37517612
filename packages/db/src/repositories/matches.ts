import { intentSchema, type Platform, type Post, type Priority, platformSchema } from '@kikimimi/rules';
import {
  and,
  arrayContains,
  asc,
  desc,
  eq,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  notExists,
  sql,
} from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { CASE_STATES, MATCH_STATUSES, matches, posts, reviewMessages } from '../schema.ts';
import type { Actor, CaseState, MatchRecord, MatchStatus } from '../types.ts';
import { type Executor, isUuid, parseDate, parseInput } from './shared.ts';

export interface MatchFilters {
  readonly status?: MatchStatus | readonly MatchStatus[] | undefined;
  readonly platform?: Platform | undefined;
  readonly intent?: string | undefined;
  /** A watch id among the watches the post matched. */
  readonly watch?: string | undefined;
  readonly escalated?: boolean | undefined;
  readonly suppressed?: boolean | undefined;
  /** Members of a surge (true) or matches reviewed on their own (false). */
  readonly inSurge?: boolean | undefined;
  /** The case's state (open, waiting, resolved), one or several. */
  readonly caseState?: CaseState | readonly CaseState[] | undefined;
  /** Who took the case: null for nobody, else the assignee's kind and id (a console user: 'web'). */
  readonly assignee?: { readonly kind: Actor['kind']; readonly id: string } | null | undefined;
  /** Only these matches (the live inbox asks which of the changed ones fit its filters). */
  readonly ids?: readonly string[] | undefined;
  /** created_at ≥ from. */
  readonly from?: Date | undefined;
  /** created_at < to. */
  readonly to?: Date | undefined;
}

export interface MatchPage {
  /** 1–500. */
  readonly limit: number;
  /** Keyset: matches strictly older than this one (pass the last match of the previous page). */
  readonly before?: { readonly createdAt: Date; readonly id: string } | undefined;
}

/** Matched posts: the inbox. Newest first, paged by (created_at, id). */
export interface MatchRepository {
  get(id: string): Promise<MatchRecord | null>;
  list(filters: MatchFilters, page: MatchPage): Promise<MatchRecord[]>;
  /**
   * Sets the status; the first reply, manual reply, escalation or dismissal also sets
   * `firstResponseAt`, which later changes keep. Null when there is no such match.
   */
  setStatus(id: string, status: MatchStatus, now: Date): Promise<MatchRecord | null>;
  /** Oldest first: unsuppressed 'new' matches created before `olderThan` without a posted review message. */
  withoutReviewMessage(olderThan: Date, limit: number): Promise<string[]>;
}

/** Statuses that answer a match: the first of them is its first response. */
export const RESPONSE_STATUSES: readonly MatchStatus[] = [
  'replied',
  'manual_pending',
  'escalated',
  'dismissed',
];

const statusSchema = z.enum(MATCH_STATUSES);

const filtersSchema = z.strictObject({
  status: z.union([statusSchema, z.array(statusSchema).min(1)]).optional(),
  platform: platformSchema.optional(),
  intent: intentSchema.optional(),
  watch: z.string().min(1).max(64).optional(),
  escalated: z.boolean().optional(),
  suppressed: z.boolean().optional(),
  inSurge: z.boolean().optional(),
  caseState: z.union([z.enum(CASE_STATES), z.array(z.enum(CASE_STATES)).min(1)]).optional(),
  assignee: z
    .strictObject({ kind: z.enum(['discord', 'web', 'system']), id: z.string().min(1).max(200) })
    .nullable()
    .optional(),
  ids: z.array(z.uuid()).max(500).optional(),
  from: z.date().optional(),
  to: z.date().optional(),
});

const pageSchema = z.object({
  limit: z.number().int().min(1).max(500),
  before: z.object({ createdAt: z.date(), id: z.uuid() }).optional(),
});

/**
 * The columns a MatchRecord is made of, and only those: watches, intent, category, routing and the
 * suppression reasons are copies of what `decision` holds (kept as columns for filtering and
 * indexing), and reading them for every row of an inbox page cost a sixth of its time.
 */
export const recordColumns = {
  id: matches.id,
  platform: matches.platform,
  postId: matches.postId,
  accountId: matches.accountId,
  decision: matches.decision,
  status: matches.status,
  priority: matches.priority,
  suppressed: matches.suppressed,
  escalated: matches.escalated,
  createdAt: matches.createdAt,
  firstResponseAt: matches.firstResponseAt,
  caseState: matches.caseState,
  assignee: matches.assignee,
  followUntil: matches.followUntil,
  surgeId: matches.surgeId,
};

type MatchRow = Pick<typeof matches.$inferSelect, keyof typeof recordColumns>;

export function toMatchRecord(row: MatchRow, post: Post): MatchRecord {
  return {
    id: row.id,
    platform: row.platform as Platform,
    postId: row.postId,
    accountId: row.accountId,
    post,
    decision: row.decision,
    status: row.status as MatchStatus,
    priority: row.priority as Priority,
    suppressed: row.suppressed,
    escalated: row.escalated,
    createdAt: row.createdAt,
    firstResponseAt: row.firstResponseAt,
    caseState: row.caseState as CaseState,
    assignee: row.assignee ?? null,
    followUntil: row.followUntil ?? null,
    surgeId: row.surgeId ?? null,
  };
}

const withPost = { match: recordColumns, post: posts.post };

/** The list query's columns, in order: recordColumns, then the post. */
const LIST_COLUMNS = [...Object.values(recordColumns).map((column) => column.name), 'post'];

function checkListColumns(fields: ReadonlyArray<{ readonly name: string }>): void {
  if (fields.length !== LIST_COLUMNS.length || fields.some((f, i) => f.name !== LIST_COLUMNS[i])) {
    throw new Error(
      `matches.list: expected the columns ${LIST_COLUMNS.join(', ')}, got ${fields.map((f) => f.name).join(', ')}`,
    );
  }
}

/** One row of the list query (rowMode 'array', in LIST_COLUMNS order) as a MatchRecord. */
function fromListRow(row: unknown[]): MatchRecord {
  return {
    id: row[0] as string,
    platform: row[1] as Platform,
    postId: row[2] as string,
    accountId: row[3] as string | null,
    decision: row[4] as MatchRecord['decision'],
    status: row[5] as MatchStatus,
    priority: row[6] as Priority,
    suppressed: row[7] as boolean,
    escalated: row[8] as boolean,
    createdAt: row[9] as Date,
    firstResponseAt: row[10] as Date | null,
    caseState: row[11] as CaseState,
    assignee: (row[12] as Actor | null) ?? null,
    followUntil: (row[13] as Date | null) ?? null,
    surgeId: (row[14] as string | null) ?? null,
    post: row[15] as Post,
  };
}
const joinPost = and(eq(posts.platform, matches.platform), eq(posts.postId, matches.postId));

/** Sets a match's status (inside the caller's transaction when given one); false when there is none. */
export async function applyStatus(
  ex: Executor,
  id: string,
  status: MatchStatus,
  now: Date,
): Promise<boolean> {
  const responds = RESPONSE_STATUSES.includes(status);
  const rows = await ex
    .update(matches)
    .set({
      status,
      ...(responds ? { firstResponseAt: sql`coalesce(${matches.firstResponseAt}, ${now})` } : {}),
      ...(status === 'escalated' ? { escalated: true } : {}),
      // A dismissed match closes its case; so does one its author deleted.
      ...(status === 'dismissed' || status === 'deleted' ? { caseState: 'resolved' } : {}),
    })
    .where(eq(matches.id, id))
    .returning({ id: matches.id });
  return rows.length > 0;
}

export function createMatchRepository(db: Database): MatchRepository {
  const get = async (id: string) => {
    if (!isUuid(id)) return null;
    const [row] = await db
      .select(withPost)
      .from(matches)
      .innerJoin(posts, joinPost)
      .where(eq(matches.id, id));
    return row === undefined ? null : toMatchRecord(row.match, row.post);
  };

  return {
    get,

    async list(filtersInput, pageInput) {
      const f = parseInput(filtersSchema, filtersInput, 'match filters');
      const page = parseInput(pageSchema, pageInput, 'match page');
      const conditions = [];
      if (f.status !== undefined) {
        conditions.push(
          Array.isArray(f.status)
            ? inArray(matches.status, f.status)
            : eq(matches.status, f.status as string),
        );
      }
      if (f.platform !== undefined) conditions.push(eq(matches.platform, f.platform));
      if (f.intent !== undefined) conditions.push(eq(matches.intent, f.intent));
      if (f.watch !== undefined) conditions.push(arrayContains(matches.watches, [f.watch]));
      if (f.escalated !== undefined) conditions.push(eq(matches.escalated, f.escalated));
      if (f.suppressed !== undefined) conditions.push(eq(matches.suppressed, f.suppressed));
      if (f.inSurge !== undefined)
        conditions.push(f.inSurge ? isNotNull(matches.surgeId) : isNull(matches.surgeId));
      if (f.ids !== undefined) {
        if (f.ids.length === 0) return [];
        conditions.push(inArray(matches.id, f.ids as string[]));
      }
      if (f.caseState !== undefined) {
        conditions.push(
          Array.isArray(f.caseState)
            ? inArray(matches.caseState, f.caseState)
            : eq(matches.caseState, f.caseState as string),
        );
      }
      if (f.assignee === null) conditions.push(isNull(matches.assignee));
      else if (f.assignee !== undefined) {
        // The expressions of matches_assignee_created_idx, so that index serves the filter.
        conditions.push(
          sql`${matches.assignee} IS NOT NULL AND (${matches.assignee}->>'kind') = ${f.assignee.kind} AND (${matches.assignee}->>'id') = ${f.assignee.id}`,
        );
      }
      if (f.from !== undefined) conditions.push(gte(matches.createdAt, f.from));
      if (f.to !== undefined) conditions.push(lt(matches.createdAt, f.to));
      if (page.before !== undefined) {
        conditions.push(
          sql`(${matches.createdAt}, ${matches.id}) < (${page.before.createdAt}, ${page.before.id}::uuid)`,
        );
      }
      // Built by drizzle, read by pg directly: drizzle's row mapping was a third of an inbox page's
      // database time (every column of 50 rows through its decoders); pg's own parsers give the same
      // values (Date, parsed JSON, booleans).
      const query = db
        .select(withPost)
        .from(matches)
        .innerJoin(posts, joinPost)
        .where(and(...conditions))
        .orderBy(desc(matches.createdAt), desc(matches.id))
        .limit(page.limit)
        .toSQL();
      const result = await db.$client.query<unknown[]>({
        text: query.sql,
        values: query.params as unknown[],
        rowMode: 'array',
      });
      checkListColumns(result.fields);
      return result.rows.map(fromListRow);
    },

    async setStatus(id, statusInput, nowInput) {
      const status = parseInput(statusSchema, statusInput, 'match status');
      const now = parseDate(nowInput, 'status time');
      if (!isUuid(id)) return null;
      return (await applyStatus(db, id, status, now)) ? get(id) : null;
    },

    async withoutReviewMessage(olderThanInput, limitInput) {
      const olderThan = parseDate(olderThanInput, 'olderThan');
      const limit = parseInput(z.number().int().min(1).max(10_000), limitInput, 'limit');
      const rows = await db
        .select({ id: matches.id })
        .from(matches)
        .where(
          and(
            eq(matches.status, 'new'),
            eq(matches.suppressed, false),
            // A surge's members are reviewed in the surge's one message.
            isNull(matches.surgeId),
            eq(matches.surgePending, false),
            lt(matches.createdAt, olderThan),
            notExists(
              db
                .select({ one: sql`1` })
                .from(reviewMessages)
                .where(
                  and(eq(reviewMessages.matchId, matches.id), sql`${reviewMessages.messageId} IS NOT NULL`),
                ),
            ),
          ),
        )
        .orderBy(asc(matches.createdAt), asc(matches.id))
        .limit(limit);
      return rows.map((r) => r.id);
    },
  };
}
