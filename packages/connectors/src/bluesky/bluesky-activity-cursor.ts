import { z } from 'zod';

/**
 * Where a look at the account's notifications stands (`app.bsky.notification.listNotifications`
 * pages newest → oldest by the AppView's index time, with no "since" parameter):
 * - `since`: the newest index time handed on; the next look pages down to `since` minus the late
 *   window and no further.
 * - `seen`: the notifications read inside that window ("<index time> <at:// URI>"), never handed on
 *   twice.
 */
export interface ActivityCursor {
  readonly since: string;
  readonly seen: readonly string[];
}

/** Most notification URIs a cursor remembers (the late window of a very busy account). */
export const ACTIVITY_SEEN_MAX = 2_000;

const schema = z.object({
  v: z.literal(1),
  since: z.iso.datetime({ offset: true }),
  seen: z
    .array(
      z
        .string()
        .regex(/^\S+ at:\/\/\S+$/u)
        .max(600),
    )
    .max(ACTIVITY_SEEN_MAX),
});

export function decodeActivityCursor(cursor: string): ActivityCursor {
  let json: unknown;
  try {
    json = JSON.parse(cursor);
  } catch {
    throw new RangeError('not a Bluesky activity cursor (not JSON)');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new RangeError(
      `not a Bluesky activity cursor (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`,
    );
  return { since: parsed.data.since, seen: parsed.data.seen };
}

export function encodeActivityCursor(cursor: ActivityCursor): string {
  return JSON.stringify({ v: 1, since: cursor.since, seen: cursor.seen.slice(-ACTIVITY_SEEN_MAX) });
}
