/**
 * Mastodon's id pagination (`Paginable#paginate_by_id`) and its Link header, reproduced because
 * connectors page with `min_id` and must see exactly what a real server answers.
 */

/** The id window a list endpoint was asked for. */
export interface PageRequest {
  readonly limit: number;
  readonly maxId: bigint | null;
  readonly sinceId: bigint | null;
  readonly minId: bigint | null;
}

/** Parses a Mastodon id parameter; anything that is not a decimal integer counts as absent. */
export function parseId(value: string | null): bigint | null {
  if (value === null || !/^\d{1,20}$/u.test(value)) return null;
  return BigInt(value);
}

/**
 * Rails' `limit_param(default)`: the absolute value of `limit`, at most twice the default
 * (statuses: 20 → 40, notifications: 40 → 80).
 */
export function limitParam(value: string | null, defaultLimit: number): number {
  if (value === null || value === '') return defaultLimit;
  const parsed = Math.abs(Number.parseInt(value, 10));
  return Number.isNaN(parsed) ? defaultLimit : Math.min(parsed, defaultLimit * 2);
}

/** Reads `limit`, `max_id`, `since_id` and `min_id` from a query string. */
export function pageRequest(query: URLSearchParams, defaultLimit: number): PageRequest {
  return {
    limit: limitParam(query.get('limit'), defaultLimit),
    maxId: parseId(query.get('max_id')),
    sinceId: parseId(query.get('since_id')),
    minId: parseId(query.get('min_id')),
  };
}

/**
 * `paginate_by_id`: with `min_id`, the `limit` items just above it (paging forward), otherwise the
 * newest `limit` items below `max_id` and above `since_id`. Either way the page is newest first.
 * `items` must be sorted oldest first.
 */
export function paginateById<T extends { readonly id: bigint }>(items: readonly T[], page: PageRequest): T[] {
  const below = (item: T) => page.maxId === null || item.id < page.maxId;
  if (page.minId !== null) {
    const minId = page.minId;
    const forward = items.filter((item) => item.id > minId && below(item)).slice(0, page.limit);
    return forward.reverse();
  }
  const sinceId = page.sinceId;
  const window = items.filter((item) => below(item) && (sinceId === null || item.id > sinceId));
  return window.slice(Math.max(0, window.length - page.limit)).reverse();
}

/**
 * The Link header Mastodon sends with a non-empty page: `next` pages back (max_id = oldest on the
 * page), `prev` pages forward (min_id = newest on the page). Query keys are sorted, as Rails'
 * `to_query` sorts them; `kept` are the request parameters the endpoint carries over.
 */
export function linkHeader(
  baseUrl: string,
  path: string,
  page: readonly { readonly id: bigint }[],
  kept: readonly (readonly [string, string])[],
): string | undefined {
  const newest = page[0];
  const oldest = page[page.length - 1];
  if (newest === undefined || oldest === undefined) return undefined;
  const link = (key: string, id: bigint) => {
    const params = [...kept, [key, id.toString()] as const].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const query = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    return `<${baseUrl}${path}?${query}>`;
  };
  return `${link('max_id', oldest.id)}; rel="next", ${link('min_id', newest.id)}; rel="prev"`;
}
