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
 */
export interface MastodonCursor {
  readonly after: string;
  readonly walk?: { readonly top: string; readonly bottom: string; readonly offset: number };
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
  return PREFIX + params.toString();
}

/** Decodes a stored cursor; anything else is a PermanentError (the stored state is wrong, not the platform). */
export function decodeCursor(value: string): MastodonCursor {
  const invalid = () =>
    new PermanentError('mastodon', `not a Mastodon cursor: ${JSON.stringify(value.slice(0, 80))}`);
  if (!value.startsWith(PREFIX)) throw invalid();
  const params = new URLSearchParams(value.slice(PREFIX.length));
  const after = params.get('after');
  if (after === null || !ID.test(after)) throw invalid();
  const top = params.get('top');
  const bottom = params.get('bottom');
  const offset = Number(params.get('offset'));
  if (top === null && bottom === null) return { after };
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
