import { z } from 'zod';

/**
 * Where an X search stands between polls.
 *
 * Recent search pages only newest → oldest, yet posts must come out oldest first and a burst larger
 * than one poll's page budget must never be skipped. So the ids above `sinceId` are seen as segments,
 * each read from its top down; a segment's posts are handed on only once its bottom is reached.
 *
 * - `sinceId`: every matching post up to this id has been returned (the next request's `since_id`).
 * - `bounds`: exclusive upper ids of segments still to read, ascending. The lowest segment is
 *   `(sinceId, bounds[0])`, the next `[bounds[0], bounds[1])`, …; above the last bound lies the open
 *   segment of posts not seen yet. Empty: nothing pending, the next poll reads the open segment.
 *
 * When the budget runs out inside a segment, the pages read become segments of one page each (their
 * posts are read again later, bottom first) and the rest of the segment below them is read next.
 * `sinceId` never moves past a post that was not returned.
 */
export interface XCursor {
  readonly sinceId: string | null;
  readonly bounds: readonly string[];
}

const id = z.string().regex(/^\d{1,19}$/u);

const cursorSchema = z.object({
  v: z.literal(1),
  sinceId: id.nullable(),
  bounds: z.array(id).default([]),
});

/** Compares two X ids numerically (they exceed 2^53, so never as numbers). */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The larger of two ids, either of which may be missing. */
export function maxId(a: string | null | undefined, b: string | null | undefined): string | null {
  if (a == null) return b ?? null;
  if (b == null) return a;
  return compareIds(a, b) >= 0 ? a : b;
}

// X ids are snowflakes: milliseconds since X's epoch (2010-11-04) in the bits above the lowest 22.
const SNOWFLAKE_EPOCH = 1288834974657n;

/** The smallest id X can give a post created at `time`: a since_id meaning "from this moment on". */
export function idAt(time: Date): string {
  return ((BigInt(time.getTime()) - SNOWFLAKE_EPOCH) << 22n).toString();
}

/** `id + delta` as an id string. */
export const offsetId = (value: string, delta: bigint): string => (BigInt(value) + delta).toString();

/** True when no id lies strictly between `lower` and `upper`, so that range holds no post at all. */
export function isEmptyRange(lower: string | null, upper: string): boolean {
  return lower !== null && BigInt(upper) - BigInt(lower) <= 1n;
}

/** Reads a stored cursor; `null` is a first poll. A bare id is read as `sinceId`. */
export function decodeCursor(cursor: string | null): XCursor {
  if (cursor === null || cursor === '') return { sinceId: null, bounds: [] };
  if (id.safeParse(cursor).success) return { sinceId: cursor, bounds: [] };
  let json: unknown;
  try {
    json = JSON.parse(cursor);
  } catch {
    throw new RangeError('not an X cursor (not JSON)');
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success)
    throw new RangeError(`not an X cursor (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  const { sinceId, bounds } = parsed.data;
  const ascending = bounds.every((b, i) =>
    i === 0 ? sinceId === null || compareIds(b, sinceId) > 0 : compareIds(b, bounds[i - 1] as string) > 0,
  );
  if (!ascending) throw new RangeError('not an X cursor (bounds must ascend above sinceId)');
  return { sinceId, bounds };
}

/** The cursor to store; `null` only while nothing has ever been seen. */
export function encodeCursor(cursor: XCursor): string | null {
  if (cursor.sinceId === null && cursor.bounds.length === 0) return null;
  return JSON.stringify({ v: 1, sinceId: cursor.sinceId, bounds: cursor.bounds });
}
