import { z } from 'zod';

/**
 * Where a Bluesky search stands between polls.
 *
 * `searchPosts` with `sort=latest` pages newest → oldest by the post's sort time (the earlier of
 * createdAt and indexedAt) and filters with `since` (inclusive; the connector filters again, as a
 * server may ignore it). So:
 * - `since`: every matching post with a sort time at or after `since` minus the late window has been
 *   returned, except those still in `gap`. Posts returned in that window are in `seen` (as
 *   "<sort time> <at:// URI>") and are not returned twice.
 * - `gap`: set when a poll's page budget ran out before it reached `since`: the posts older than
 *   `gap.until` (down to `since`) are still to be read; the next poll reads them first, continuing
 *   at `gap.page`, the search's own page cursor of the same query.
 * - `newest`: the newest sort time returned so far; `since` moves up to it once no gap is left.
 */
export interface BlueskyCursor {
  readonly since: string | null;
  readonly newest: string | null;
  readonly gap: { readonly until: string; readonly page: string | null } | null;
  readonly seen: readonly string[];
}

const iso = z.iso.datetime({ offset: true });
const schema = z.object({
  v: z.literal(1),
  since: iso.nullable(),
  newest: iso.nullable(),
  gap: z.object({ until: iso, page: z.string().max(2000).nullable() }).nullable(),
  seen: z.array(z.string().regex(/^\S+ at:\/\/\S+$/u)).max(10_000),
});

export const EMPTY_CURSOR: BlueskyCursor = { since: null, newest: null, gap: null, seen: [] };

export function decodeCursor(cursor: string | null): BlueskyCursor {
  if (cursor === null || cursor === '') return EMPTY_CURSOR;
  let json: unknown;
  try {
    json = JSON.parse(cursor);
  } catch {
    throw new RangeError('not a Bluesky cursor (not JSON)');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new RangeError(
      `not a Bluesky cursor (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
    );
  const { since, newest, gap, seen } = parsed.data;
  return { since, newest, gap, seen };
}

export function encodeCursor(cursor: BlueskyCursor): string | null {
  if (cursor.since === null && cursor.newest === null && cursor.gap === null) return null;
  return JSON.stringify({ v: 1, ...cursor });
}

/** The sort time Bluesky pages by: the earlier of createdAt and indexedAt. */
export function sortTime(createdAt: string, indexedAt: string): string {
  const c = Date.parse(createdAt);
  const i = Date.parse(indexedAt);
  if (Number.isNaN(c)) return new Date(i).toISOString();
  return new Date(Math.min(c, i)).toISOString();
}
