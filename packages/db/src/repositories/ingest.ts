import {
  type ContactRecord,
  contactKeys,
  type Decision,
  type Platform,
  type Post,
  platformSchema,
  timeZoneSchema,
} from '@kikimimi/rules';
import { and, eq, gte, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { InvalidInputError } from '../errors.ts';
import { authors, contacts, matches, posts, replies, reviewDecisions } from '../schema.ts';
import type { MatchRecord, PollOutcome } from '../types.ts';
import { type Executor, isUuid, parseDate, parseInput, SYSTEM_ACTOR, writeAudit } from './shared.ts';
import { applyPoll } from './sources.ts';

export interface StoreItem {
  readonly post: Post;
  readonly decision: Decision;
}

export interface StoreBatchOptions {
  /** The poll that fetched the batch: its cursor is saved in the batch's transaction, or not at all. */
  readonly cursor?: {
    readonly accountId: string;
    readonly sourceKey: string;
    readonly outcome: PollOutcome;
  };
}

export interface StoreBatchResult {
  /** Matches created by this batch (a match already stored is not new again). */
  readonly newMatches: MatchRecord[];
  /** Items whose post was stored before (or earlier in the same batch). */
  readonly duplicates: number;
}

/** An author whose contacts to look up: by id on its platform, by handle on any platform. */
export interface AuthorKey {
  readonly platform: Platform;
  readonly authorId: string;
  readonly handle: string;
}

/** What an author's edit changed. */
export interface EditResult {
  /** False when the post was deleted before: the edit is ignored. */
  readonly applied: boolean;
  /** A match the edit created: the post did not match before (or was never stored) and does now. */
  readonly newMatch: MatchRecord | null;
  /**
   * The post's existing match; `redecided` when the edit's decision replaced its own (the match was
   * still open: status new or suppressed, no reviewer decision, no reply). A match a reviewer decided,
   * or whose post no longer matches any watch, keeps its status and decision.
   */
  readonly match: { readonly id: string; readonly redecided: boolean } | null;
}

/** What an author's deletion changed. */
export interface DeletionResult {
  /** The post's match, if it has one. */
  readonly matchId: string | null;
  /** True when the deletion closed the match (status `deleted`): it was not answered, dismissed or deleted before. */
  readonly closed: boolean;
}

/** Ingest: posts and matches by the page, and what the suppression policy needs to know. */
export interface IngestRepository {
  /**
   * Stores a page of posts with the rules' decisions in one transaction: posts and authors, a match
   * per matched decision (status 'suppressed' when suppressed, else 'new'), and the source cursor.
   * One multi-row statement per table; items already stored are skipped, never duplicated.
   */
  storeBatch(
    accountId: string | null,
    items: readonly StoreItem[],
    options: StoreBatchOptions | undefined,
    now: Date,
  ): Promise<StoreBatchResult>;
  /**
   * Contacts since `since` that may concern these authors: the same author id on the same platform, or
   * the same handle (lower case, without "@" and instance) on any platform. A superset: the suppression
   * policy decides. Keys may also be given as the policy's `authorKeys` strings (`id:x:123`, `name:foo`),
   * which include linked accounts.
   */
  contactHistory(authorKeys: ReadonlyArray<AuthorKey | string>, since: Date): Promise<ContactRecord[]>;
  /**
   * The author edited a stored post: the post row becomes the edited version (`edited_at` set) and the
   * match is decided again while still open (see EditResult). A post never stored is stored like a new
   * one. Every edit of a stored post gets an audit entry `post.edit` (target `platform:postId`, with
   * the previous text), whether or not the match changed.
   */
  applyEdit(accountId: string | null, item: StoreItem, now: Date): Promise<EditResult>;
  /**
   * The author deleted the post: `deleted_at` is set and an open match (new, suppressed or escalated,
   * with no reply) is closed with status `deleted`; an answered one keeps its status. Audit entry
   * `post.delete`. A second deletion of the same post changes nothing.
   */
  applyDeletion(platform: Platform, postId: string, now: Date): Promise<DeletionResult>;
  /** Replies sent (state sent or manual_done) on the platform during the day of `now` in `timeZone` (IANA, default UTC). */
  repliesToday(platform: Platform, now: Date, timeZone?: string): Promise<number>;
  /** {@link repliesToday} for every platform at once, as the rules' DecisionContext wants it. */
  repliesTodayByPlatform(now: Date, timeZone?: string): Promise<Partial<Record<Platform, number>>>;
}

/** Rows per statement: one page is one statement; bigger batches are split to bound memory. */
const MAX_ROWS = 5_000;

function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += MAX_ROWS) out.push(rows.slice(i, i + MAX_ROWS));
  return out;
}

/**
 * PostgreSQL refuses U+0000 and unpaired UTF-16 surrogates (a post cut in the middle of an emoji) in
 * text and jsonb. A post carrying one would fail its whole page on every retry, so such characters
 * are replaced by U+FFFD instead.
 */
function cleanText<T>(value: T): T {
  if (typeof value === 'string') {
    return (
      value.includes('\u0000') || !value.isWellFormed()
        ? value.replaceAll('\u0000', '\uFFFD').toWellFormed()
        : value
    ) as T;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const clean = cleanText(item);
      if (clean !== item) {
        copy ??= [...value];
        copy[i] = clean;
      }
    });
    return (copy ?? value) as T;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    let copy: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const clean = cleanText(v);
      if (clean !== v) {
        copy ??= { ...(value as Record<string, unknown>) };
        copy[k] = clean;
      }
    }
    return (copy ?? value) as T;
  }
  return value;
}

interface PreparedItem {
  readonly key: string;
  readonly post: Post;
  readonly decision: Decision;
}

/** JSON.stringify writes NUL as \u0000 and an unpaired surrogate as \udXXX: one native scan finds both. */
const SUSPECT_ESCAPE = /\\u(?:0000|d[89a-f])/iu;

/** The item, cleaned if it carries a character PostgreSQL refuses. */
function prepare(item: StoreItem): PreparedItem {
  let { post, decision } = item;
  if (SUSPECT_ESCAPE.test(JSON.stringify(item))) {
    post = cleanText(post);
    decision = cleanText(decision);
  }
  // Cleaned ids hold no NUL, so it separates the key's parts unambiguously.
  return { key: `${post.platform}\u0000${post.id}`, post, decision };
}

/** A column list for raw INSERT statements, named from the schema. */
function columns(...cols: AnyPgColumn[]): SQL {
  return sql.join(
    cols.map((c) => sql.identifier(c.name)),
    sql`, `,
  );
}

/** The handle part of rules' contact keys: lower case, no "@", no Mastodon instance. */
export function handleKeyOf(platform: Platform, authorId: string, handle: string): string {
  return (contactKeys({ platform, authorId, handle })[1] as string).slice('name:'.length);
}

const compareKeys = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Checks what a bad item would otherwise turn into a confusing database error. */
function checkItems(items: readonly StoreItem[]): void {
  if (!Array.isArray(items)) {
    throw new InvalidInputError('ingest batch', [{ path: 'items', message: 'expected an array' }]);
  }
  const problems: { path: string; message: string }[] = [];
  items.forEach((item, i) => {
    const post = item?.post;
    const decision = item?.decision;
    if (post === undefined || typeof post !== 'object' || post === null) {
      problems.push({ path: `items[${i}].post`, message: 'expected a post' });
      return;
    }
    if (!platformSchema.safeParse(post.platform).success) {
      problems.push({ path: `items[${i}].post.platform`, message: 'unknown platform' });
    }
    if (typeof post.id !== 'string' || post.id === '') {
      problems.push({ path: `items[${i}].post.id`, message: 'expected a non-empty string' });
    }
    if (typeof post.author?.id !== 'string' || typeof post.author?.handle !== 'string') {
      problems.push({ path: `items[${i}].post.author`, message: 'expected an author with id and handle' });
    }
    if (typeof post.createdAt !== 'string' || Number.isNaN(Date.parse(post.createdAt))) {
      problems.push({ path: `items[${i}].post.createdAt`, message: 'expected an ISO 8601 time' });
    }
    if (decision?.post?.platform !== post.platform || decision?.post?.id !== post.id) {
      problems.push({ path: `items[${i}].decision.post`, message: 'the decision is about another post' });
    }
  });
  if (problems.length > 0) throw new InvalidInputError('ingest batch', problems);
}

type MatchedItem = PreparedItem & { readonly decision: Extract<Decision, { matched: true }> };

/** Inserts a match per item (status 'suppressed' when suppressed, else 'new'); one already stored is skipped. */
async function insertMatches(
  tx: Executor,
  accountId: string | null,
  chunk: readonly MatchedItem[],
  now: Date,
): Promise<MatchRecord[]> {
  const byKey = new Map(chunk.map((row) => [row.key, row]));
  const created: MatchRecord[] = [];
  const rows = chunk.map((r) => ({
    platform: r.post.platform,
    post_id: r.post.id,
    watches: r.decision.watches,
    intent: r.decision.intent,
    category: r.decision.category,
    priority: r.decision.route.priority,
    review_channel: r.decision.route.reviewChannel,
    decision: r.decision,
    suppressed: r.decision.suppressed,
    reasons: r.decision.suppression.reasons,
    escalated: r.decision.escalations.length > 0,
  }));
  const result = await tx.execute<{ id: string; platform: string; post_id: string }>(sql`
    INSERT INTO ${matches} (${columns(matches.platform, matches.postId, matches.accountId, matches.watches, matches.intent, matches.category, matches.priority, matches.reviewChannel, matches.decision, matches.suppressed, matches.suppressionReasons, matches.escalated, matches.status, matches.caseState, matches.createdAt)})
    SELECT platform, post_id, ${accountId}::uuid, watches, intent, category, priority, review_channel,
      decision, suppressed, reasons, escalated,
      CASE WHEN suppressed THEN 'suppressed' ELSE 'new' END,
      CASE WHEN suppressed THEN 'resolved' ELSE 'open' END, ${now}::timestamptz
    FROM json_to_recordset(${JSON.stringify(rows)}::json)
      AS x(platform text, post_id text, watches text[], intent text, category text, priority text,
           review_channel text, decision jsonb, suppressed boolean, reasons text[], escalated boolean)
    ON CONFLICT (${columns(matches.platform, matches.postId)}) DO NOTHING
    RETURNING ${columns(matches.id, matches.platform, matches.postId)}`);
  for (const row of result.rows) {
    const item = byKey.get(`${row.platform}\u0000${row.post_id}`) as MatchedItem;
    created.push({
      id: row.id,
      platform: item.post.platform,
      postId: item.post.id,
      accountId,
      post: item.post,
      decision: item.decision,
      status: item.decision.suppressed ? 'suppressed' : 'new',
      priority: item.decision.route.priority,
      suppressed: item.decision.suppressed,
      escalated: item.decision.escalations.length > 0,
      createdAt: now,
      firstResponseAt: null,
      // A suppressed match is nobody's work: its case starts resolved.
      caseState: item.decision.suppressed ? 'resolved' : 'open',
      assignee: null,
      followUntil: null,
      surgeId: null,
    });
  }
  return created;
}

/** Statuses in which an edit decides the match again (when no reviewer has decided either). */
const OPEN_FOR_REDECISION = new Set(['new', 'suppressed']);
/** Statuses a deletion closes: nobody has answered, dismissed or closed the match yet. */
const CLOSED_BY_DELETION = ['new', 'suppressed', 'escalated'] as const;

const keysSchema = z.array(
  z.union([
    z.string().regex(/^(id:[a-z]+:.+|name:.+)$/u, 'a contact key such as "id:x:123" or "name:foo"'),
    z.object({ platform: platformSchema, authorId: z.string().min(1), handle: z.string().min(1) }),
  ]),
);

export function createIngestRepository(db: Database): IngestRepository {
  const repository: IngestRepository = {
    async storeBatch(accountId, items, options = {}, nowInput) {
      const now = parseDate(nowInput, 'ingest time');
      if (accountId !== null && !isUuid(accountId)) {
        throw new InvalidInputError('ingest batch', [
          { path: 'accountId', message: 'expected a uuid or null' },
        ]);
      }
      checkItems(items);

      // One row per post (the first occurrence) and per author (the last seen), in key order so that
      // concurrent batches lock rows in the same order and cannot deadlock.
      const postRows = new Map<string, PreparedItem>();
      const authorRows = new Map<string, { key: string; post: Post }>();
      for (const item of items) {
        const prepared = prepare(item);
        if (postRows.has(prepared.key)) continue;
        postRows.set(prepared.key, prepared);
        const { post } = prepared;
        const authorKey = `${post.platform}\u0000${post.author.id}`;
        authorRows.set(authorKey, { key: authorKey, post });
      }
      const uniquePosts = [...postRows.values()].sort(compareKeys);
      const uniqueAuthors = [...authorRows.values()].sort(compareKeys);

      return db.transaction(async (tx) => {
        // Each table gets one INSERT … SELECT FROM json_to_recordset(<the page as one JSON parameter>):
        // the statement does not grow with the page (a VALUES list binds a parameter per column and row,
        // and building it costs as much as running it), and JSON needs no per-value escaping.
        for (const chunk of chunks(uniqueAuthors)) {
          const rows = chunk.map(({ post }) => ({
            platform: post.platform,
            author_id: post.author.id,
            handle: post.author.handle,
            display_name: post.author.displayName ?? '',
            followers: post.author.followers ?? null,
          }));
          await tx.execute(sql`
            INSERT INTO ${authors} (${columns(authors.platform, authors.authorId, authors.handle, authors.displayName, authors.followers, authors.updatedAt)})
            SELECT platform, author_id, handle, display_name, followers, ${now}::timestamptz
            FROM json_to_recordset(${JSON.stringify(rows)}::json)
              AS x(platform text, author_id text, handle text, display_name text, followers int)
            ON CONFLICT (${columns(authors.platform, authors.authorId)}) DO UPDATE SET
              handle = excluded.handle,
              display_name = excluded.display_name,
              followers = excluded.followers,
              updated_at = excluded.updated_at
            -- An unchanged profile is not rewritten (no dead row per post).
            WHERE (${authors.handle}, ${authors.displayName}, ${authors.followers})
              IS DISTINCT FROM (excluded.handle, excluded.display_name, excluded.followers)`);
        }

        let inserted = 0;
        for (const chunk of chunks(uniquePosts)) {
          const rows = chunk.map((r) => ({
            platform: r.post.platform,
            post_id: r.post.id,
            url: r.post.url,
            author_id: r.post.author.id,
            text: r.post.text,
            lang: r.post.lang ?? null,
            created_at: r.post.createdAt,
            post: r.post,
          }));
          const result = await tx.execute(sql`
            INSERT INTO ${posts} (${columns(posts.platform, posts.postId, posts.accountId, posts.url, posts.authorId, posts.text, posts.lang, posts.createdAt, posts.post, posts.fetchedAt)})
            SELECT platform, post_id, ${accountId}::uuid, url, author_id, text, lang, created_at, post, ${now}::timestamptz
            FROM json_to_recordset(${JSON.stringify(rows)}::json)
              AS x(platform text, post_id text, url text, author_id text, text text, lang text, created_at timestamptz, post jsonb)
            ON CONFLICT (${columns(posts.platform, posts.postId)}) DO NOTHING`);
          inserted += result.rowCount ?? 0;
        }

        const matched = uniquePosts.filter((row): row is MatchedItem => row.decision.matched);
        const newMatches: MatchRecord[] = [];
        for (const chunk of chunks(matched))
          newMatches.push(...(await insertMatches(tx, accountId, chunk, now)));

        if (options.cursor !== undefined) {
          const { cursor } = options;
          await applyPoll(tx, cursor.accountId, cursor.sourceKey, cursor.outcome, now);
        }
        return { newMatches, duplicates: items.length - inserted };
      });
    },

    async applyEdit(accountId, item, nowInput) {
      const now = parseDate(nowInput, 'edit time');
      checkItems([item]);
      const prepared = prepare(item);
      const { post, decision } = prepared;
      const target = `${post.platform}:${post.id}`;
      const outcome = await db.transaction(async (tx): Promise<EditResult | 'unknown'> => {
        const found = await tx
          .select({ text: posts.text, deletedAt: posts.deletedAt })
          .from(posts)
          .where(and(eq(posts.platform, post.platform), eq(posts.postId, post.id)))
          .for('update');
        const before = found[0];
        if (before === undefined) return 'unknown';
        if (before.deletedAt !== null) return { applied: false, newMatch: null, match: null };
        await tx
          .update(posts)
          .set({ text: post.text, url: post.url, lang: post.lang ?? null, post, editedAt: now })
          .where(and(eq(posts.platform, post.platform), eq(posts.postId, post.id)));
        const [existing] = await tx
          .select({
            id: matches.id,
            status: matches.status,
            decided: sql<boolean>`EXISTS (SELECT 1 FROM ${reviewDecisions} WHERE ${reviewDecisions.matchId} = ${matches.id} AND ${reviewDecisions.kind} <> 'refused')
              OR EXISTS (SELECT 1 FROM ${replies} WHERE ${replies.matchId} = ${matches.id})`,
          })
          .from(matches)
          .where(and(eq(matches.platform, post.platform), eq(matches.postId, post.id)))
          .for('update');
        let result: EditResult;
        if (existing === undefined) {
          const [created] = decision.matched
            ? await insertMatches(tx, accountId, [prepared as MatchedItem], now)
            : [];
          result = { applied: true, newMatch: created ?? null, match: null };
        } else {
          const open = OPEN_FOR_REDECISION.has(existing.status) && !existing.decided;
          if (open && decision.matched) {
            await tx
              .update(matches)
              .set({
                watches: [...decision.watches],
                intent: decision.intent,
                category: decision.category,
                priority: decision.route.priority,
                reviewChannel: decision.route.reviewChannel,
                decision,
                suppressed: decision.suppressed,
                suppressionReasons: [...decision.suppression.reasons],
                escalated: decision.escalations.length > 0,
                status: decision.suppressed ? 'suppressed' : 'new',
                caseState: decision.suppressed ? 'resolved' : 'open',
              })
              .where(eq(matches.id, existing.id));
          }
          result = {
            applied: true,
            newMatch: null,
            match: { id: existing.id, redecided: open && decision.matched },
          };
        }
        await writeAudit(
          tx,
          SYSTEM_ACTOR,
          'post.edit',
          target,
          {
            matchId: result.match?.id ?? result.newMatch?.id ?? null,
            redecided: result.match?.redecided ?? result.newMatch !== null,
            previousText: before.text,
          },
          now,
        );
        return result;
      });
      if (outcome !== 'unknown') return outcome;
      const { newMatches } = await repository.storeBatch(accountId, [item], undefined, now);
      return { applied: true, newMatch: newMatches[0] ?? null, match: null };
    },

    async applyDeletion(platformInput, postIdInput, nowInput) {
      const now = parseDate(nowInput, 'deletion time');
      const { platform, postId } = parseInput(
        z.object({ platform: platformSchema, postId: z.string().min(1).max(200) }),
        { platform: platformInput, postId: postIdInput },
        'deleted post',
      );
      return db.transaction(async (tx) => {
        const marked = await tx
          .update(posts)
          .set({ deletedAt: now })
          .where(and(eq(posts.platform, platform), eq(posts.postId, postId), isNull(posts.deletedAt)))
          .returning({ postId: posts.postId });
        const [match] = await tx
          .select({ id: matches.id })
          .from(matches)
          .where(and(eq(matches.platform, platform), eq(matches.postId, postId)));
        if (marked.length === 0) return { matchId: match?.id ?? null, closed: false };
        let closed = false;
        if (match !== undefined) {
          const updated = await tx
            .update(matches)
            .set({ status: 'deleted', caseState: 'resolved' })
            .where(
              and(
                eq(matches.id, match.id),
                inArray(matches.status, [...CLOSED_BY_DELETION]),
                sql`NOT EXISTS (SELECT 1 FROM ${replies} WHERE ${replies.matchId} = ${matches.id})`,
              ),
            )
            .returning({ id: matches.id });
          closed = updated.length > 0;
        }
        await writeAudit(
          tx,
          SYSTEM_ACTOR,
          'post.delete',
          `${platform}:${postId}`,
          { matchId: match?.id ?? null, closed },
          now,
        );
        return { matchId: match?.id ?? null, closed };
      });
    },

    async contactHistory(authorKeysInput, sinceInput) {
      const since = parseDate(sinceInput, 'contact history since');
      const keys = parseInput(keysSchema, authorKeysInput, 'author keys');
      const platforms: string[] = [];
      const ids: string[] = [];
      const names = new Set<string>();
      const addId = (platform: string, id: string) => {
        platforms.push(platform);
        ids.push(id);
      };
      for (const key of keys) {
        if (typeof key === 'string') {
          if (key.startsWith('name:')) names.add(key.slice('name:'.length));
          else {
            const rest = key.slice('id:'.length);
            const colon = rest.indexOf(':');
            addId(rest.slice(0, colon), rest.slice(colon + 1));
          }
        } else {
          addId(key.platform, key.authorId);
          names.add(handleKeyOf(key.platform, key.authorId, key.handle));
        }
      }
      if (platforms.length === 0 && names.size === 0) return [];
      const rows = await db
        .select({
          platform: contacts.platform,
          authorId: contacts.authorId,
          handle: contacts.handle,
          matchId: contacts.matchId,
          at: contacts.at,
        })
        .from(contacts)
        .where(
          and(
            gte(contacts.at, since),
            sql`((${contacts.platform}, ${contacts.authorId}) IN (SELECT * FROM unnest(${sql.param(platforms)}::text[], ${sql.param(ids)}::text[])) OR ${contacts.handleKey} = ANY(${sql.param([...names])}::text[]))`,
          ),
        )
        .orderBy(sql`${contacts.at} DESC`);
      return rows.map((row) => ({
        platform: row.platform as Platform,
        authorId: row.authorId,
        handle: row.handle,
        at: row.at.toISOString(),
        ...(row.matchId === null ? {} : { matchId: row.matchId }),
      }));
    },

    async repliesToday(platformInput, nowInput, timeZone = 'UTC') {
      const platform = parseInput(platformSchema, platformInput, 'platform');
      const zone = parseInput(timeZoneSchema, timeZone, 'time zone');
      const counts = await countRepliesToday(db, parseDate(nowInput, 'now'), zone);
      return counts[platform] ?? 0;
    },

    async repliesTodayByPlatform(nowInput, timeZone = 'UTC') {
      const zone = parseInput(timeZoneSchema, timeZone, 'time zone');
      return countRepliesToday(db, parseDate(nowInput, 'now'), zone);
    },
  };
  return repository;
}

async function countRepliesToday(
  db: Database,
  now: Date,
  timeZone: string,
): Promise<Partial<Record<Platform, number>>> {
  // The calendar day of `now` in the zone, as PostgreSQL counts it (days of 23 or 25 hours included).
  const day = sql`date_trunc('day', ${now.toISOString()}::timestamptz AT TIME ZONE ${timeZone})`;
  const rows = await db
    .select({ platform: matches.platform, count: sql<number>`count(*)::int` })
    .from(replies)
    .innerJoin(matches, eq(matches.id, replies.matchId))
    .where(
      and(
        inArray(replies.state, ['sent', 'manual_done']),
        sql`${replies.sentAt} >= (${day} AT TIME ZONE ${timeZone})`,
        sql`${replies.sentAt} < ((${day} + interval '1 day') AT TIME ZONE ${timeZone})`,
      ),
    )
    .groupBy(matches.platform);
  const out: Partial<Record<Platform, number>> = {};
  for (const row of rows) out[row.platform as Platform] = row.count;
  return out;
}
