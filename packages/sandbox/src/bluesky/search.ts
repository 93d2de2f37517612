import { createMatcher, type PreparedPost, parseQuery } from '@kikimimi/rules';

/**
 * A `searchPosts` query as Bluesky's search service (palomar, `search/parse_query.go` in
 * bluesky-social/indigo) reads it: split on blanks outside "quotes"; `#tag` filters by tag;
 * `@handle` and `mentions:handle` / `to:handle` by a mentioned account, `from:handle` (or a bare
 * `did:…`) by author — a handle that is not one (no domain) or that does not resolve is dropped
 * from the query; `lang:`, `domain:`, an `http(s)://` address, `since:` and `until:` (a date or a
 * datetime) filter too. What is left are words and "phrases" that must all occur, `-word` excluded;
 * nothing left means every post. Words are matched by kikimimi's Japanese-aware matcher instead of
 * OpenSearch's analyzers.
 */
export interface BlueskySearchQuery {
  readonly tags: readonly string[];
  readonly author: string | null;
  readonly mentions: string | null;
  readonly lang: string | null;
  readonly domain: string | null;
  readonly url: string | null;
  readonly since: string | null;
  readonly until: string | null;
  /** Whether the words of the query (if any) occur in the post. */
  matchesText(post: PreparedPost): boolean;
}

const HANDLE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/iu;
const DID = /^did:[a-z]+:[A-Za-z0-9._:%-]+$/u;
const LANG = /^[a-z]{2,3}(?:-[A-Za-z0-9]+)*$/u;

/** A date (`2026-11-20`, midnight UTC) or a datetime, as an ISO string; null when it is neither. */
export function searchTime(value: string): string | null {
  const text = /^\d{4}-\d{2}-\d{2}$/u.test(value) ? `${value}T00:00:00Z` : value;
  const ms = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}/u.test(value) && !Number.isNaN(ms) ? new Date(ms).toISOString() : null;
}

export function parseSearchQuery(
  raw: string,
  resolveHandle: (handle: string) => string | undefined,
): BlueskySearchQuery {
  let quoted = false;
  const parts: string[] = [];
  let current = '';
  for (const c of raw) {
    if (c === '"') quoted = !quoted;
    if (c === ' ' && !quoted) {
      if (current !== '') parts.push(current);
      current = '';
    } else current += c;
  }
  if (current !== '') parts.push(current);

  const tags: string[] = [];
  let author: string | null = null;
  let mentions: string | null = null;
  let lang: string | null = null;
  let domain: string | null = null;
  let url: string | null = null;
  let since: string | null = null;
  let until: string | null = null;
  const words: string[] = [];
  const handleOf = (value: string) => {
    const handle = value.replace(/^@/u, '');
    return HANDLE.test(handle) ? resolveHandle(handle.toLowerCase()) : undefined;
  };
  for (const part of parts) {
    if (part.startsWith('"')) {
      words.push(part);
      continue;
    }
    if (part.startsWith('#') && part.length > 1) {
      tags.push(part.slice(1));
      continue;
    }
    if (part.startsWith('@') && part.length > 1) {
      // Not a handle: a word. A handle nobody has: dropped.
      if (!HANDLE.test(part.slice(1))) words.push(part);
      else mentions = handleOf(part) ?? mentions;
      continue;
    }
    const colon = part.indexOf(':');
    if (colon === -1) {
      words.push(part);
      continue;
    }
    const [key, value] = [part.slice(0, colon), part.slice(colon + 1)];
    switch (key) {
      case 'did':
        if (DID.test(part)) author = part;
        continue;
      case 'from':
        author = handleOf(value) ?? author;
        continue;
      case 'to':
      case 'mentions':
        mentions = handleOf(value) ?? mentions;
        continue;
      case 'http':
      case 'https':
        url = part;
        continue;
      case 'domain':
        domain = value.toLowerCase();
        continue;
      case 'lang':
        if (LANG.test(value)) lang = value.toLowerCase();
        continue;
      case 'since':
        since = searchTime(value) ?? since;
        continue;
      case 'until':
        until = searchTime(value) ?? until;
        continue;
      default:
        words.push(part);
    }
  }

  // Every word as a kikimimi phrase (so nothing in it is read as kikimimi's own syntax), `-` excluding.
  const asPhrase = (word: string) => {
    const negated = word.startsWith('-') && word.length > 1;
    const inner = (negated ? word.slice(1) : word).replace(/"/gu, ' ').trim();
    return inner === '' ? null : `${negated ? '-' : ''}"${inner}"`;
  };
  const terms = words.map(asPhrase).filter((t): t is string => t !== null);
  const positive = terms.some((t) => !t.startsWith('-'));
  const matcher = positive ? createMatcher([{ key: 'q', ast: parseQuery(terms.join(' ')) }]) : null;
  // Only exclusions: every post but those (as OpenSearch's simple_query_string reads "-a").
  const excluded =
    !positive && terms.length > 0
      ? createMatcher(terms.map((t, i) => ({ key: String(i), ast: parseQuery(t.slice(1)) })))
      : null;

  return {
    tags,
    author,
    mentions,
    lang,
    domain,
    url,
    since,
    until,
    matchesText(post) {
      if (matcher !== null) return matcher.match(post).includes('q');
      if (excluded !== null) return excluded.match(post).length === 0;
      return true;
    },
  };
}
