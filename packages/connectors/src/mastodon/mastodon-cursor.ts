import { PermanentError } from '../errors.ts';

/**
 * Where polling a Mastodon source stands.
 *
 * `after`: every item with an id up to this one has been handed on (for the mentions source these are
 * notification ids, not status ids: notifications are what is paged).
 *
 * `walk` (search only): Mastodon's search returns the newest matches first and cannot page forward,
 * so a burst larger than the page budget is read newest to oldest over several polls. `top` is the
 * newest match already handed on, `bottom` the oldest, `offset` how far into the results (searched
 * above `after`) the walk has gone. `after` only moves, to `top`, once the walk reaches it.
 *
 * `late` (hashtag timelines): remote statuses get ids from their own creation time, so a status that
 * federates late sorts below `after`. Each poll re-reads from `floor` up; `seen` lists every id in
 * `(floor, after]` already handed on, so only the late ones are new. `resume`: where a poll whose
 * page budget ran out goes on (the next full re-read from `floor` comes once it has caught up).
 */
export interface MastodonCursor {
  readonly after: string;
  readonly walk?: { readonly top: string; readonly bottom: string; readonly offset: number };
  readonly late?: { readonly floor: string; readonly seen: readonly string[]; readonly resume?: string };
}

const PREFIX = 'mastodon1:';
const ID = /^[0-9A-Za-z_-]{1,64}$/u;

/** Encodes a cursor as the opaque string the caller stores. */
export function encodeCursor(cursor: MastodonCursor): string {
  const params = new URLSearchParams({ after: cursor.after });
  if (cursor.walk !== undefined) {
    params.set('top', cursor.walk.top);
    params.set('bottom', cursor.walk.bottom);
    params.set('offset', String(cursor.walk.offset));
  }
  if (cursor.late !== undefined) {
    params.set('floor', cursor.late.floor);
    params.set('seen', cursor.late.seen.join('.'));
    if (cursor.late.resume !== undefined) params.set('resume', cursor.late.resume);
  }
  return PREFIX + params.toString();
}

/**
 * The id of a Mastodon status created `ms` milliseconds before status `id` (Mastodon's ids are
 * snowflakes: milliseconds since 1970 above 16 bits of sequence); null for ids that are not (other
 * servers' flake ids), where no window below the cursor can be computed.
 */
export function idBefore(id: string, ms: number): string | null {
  if (!/^\d{15,20}$/u.test(id)) return null;
  const time = BigInt(id) >> 16n;
  // 2016 (Mastodon's first release) to a day from now: anything else is not a timestamp.
  if (time < 1_451_606_400_000n || time > BigInt(Date.now() + 86_400_000)) return null;
  return ((time - BigInt(Math.max(0, Math.floor(ms)))) << 16n).toString();
}

/** Decodes a stored cursor; anything else is a PermanentError (the stored state is wrong, not the platform). */
export function decodeCursor(value: string): MastodonCursor {
  const invalid = () =>
    new PermanentError('mastodon', `not a Mastodon cursor: ${JSON.stringify(value.slice(0, 80))}`);
  if (!value.startsWith(PREFIX)) throw invalid();
  const params = new URLSearchParams(value.slice(PREFIX.length));
  const after = params.get('after');
  if (after === null || !ID.test(after)) throw invalid();
  const floor = params.get('floor');
  const seenText = params.get('seen');
  let late: MastodonCursor['late'];
  if (floor !== null || seenText !== null) {
    const seen = seenText === null || seenText === '' ? [] : seenText.split('.');
    const resume = params.get('resume');
    if (floor === null || !ID.test(floor) || !seen.every((id) => ID.test(id))) throw invalid();
    if (resume !== null && !ID.test(resume)) throw invalid();
    late = resume === null ? { floor, seen } : { floor, seen, resume };
  }
  const top = params.get('top');
  const bottom = params.get('bottom');
  const offset = Number(params.get('offset'));
  if (top === null && bottom === null) return late === undefined ? { after } : { after, late };
  if (
    top === null ||
    bottom === null ||
    !ID.test(top) ||
    !ID.test(bottom) ||
    !Number.isSafeInteger(offset) ||
    offset < 0
  ) {
    throw invalid();
  }
  return { after, walk: { top, bottom, offset } };
}

/**
 * Orders Mastodon ids. They are strings "cast from an integer but not guaranteed to be a number";
 * comparing length first and then characters orders Mastodon's decimal snowflakes numerically and
 * other servers' fixed-width ids (Pleroma's flakes) as they sort themselves.
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
