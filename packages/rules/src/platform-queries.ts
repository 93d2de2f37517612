import { isValidHandle } from './handles.ts';
import type { QueryNode } from './query-ast.ts';

/**
 * From the same watches the local matcher uses, what each platform is asked for. The platforms'
 * own search is only a net: the local matcher always has the last word, so these queries aim for
 * recall (kana variants, no synonyms dropped) while keeping X's billed reads low.
 */

export interface CompiledWatch {
  readonly id: string;
  readonly ast: QueryNode;
}

export interface XQuery {
  /** At most `maxLength` characters. */
  readonly query: string;
  /** Watches whose clauses are in this query (a watch split over several queries appears in each). */
  readonly watchIds: readonly string[];
}

export interface XQueryPlan {
  readonly queries: readonly XQuery[];
  /** Watches (or parts of them) that cannot be expressed within the length limit. */
  readonly problems: ReadonlyArray<{ readonly watchId: string; readonly message: string }>;
}

export interface XQueryOptions {
  readonly maxLength: number;
  /** Append `-is:retweet`: reposts are never answered and every post read is billed. */
  readonly excludeReposts: boolean;
}

const toHiragana = (s: string) =>
  s.replace(/[\u30a1-\u30f6]/gu, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
const toKatakana = (s: string) =>
  s.replace(/[\u3041-\u3096]/gu, (c) => String.fromCharCode(c.charCodeAt(0) + 0x60));

// Kanji with kana endings (落ちてる) is never written in the other kana script; only pure-kana words
// (ブクログ / ぶくろぐ) are.
const HAS_HAN = /\p{Script=Han}/u;

/** The written forms X should be asked for: NFKC, lower case, and both kana scripts of a kana word. */
export function searchVariants(raw: string): string[] {
  const base = raw.normalize('NFKC').toLowerCase();
  if (HAS_HAN.test(base)) return [base];
  return [...new Set([base, toKatakana(base), toHiragana(base)])];
}

// X treats these specially inside a bare term, so such terms are quoted.
const NEEDS_QUOTES = /[\s()"':]|^[-#@$]|^OR$/u;

function xTerm(text: string, phrase: boolean): string {
  const clean = text.replace(/"/gu, ' ').trim();
  return phrase || NEEDS_QUOTES.test(clean) ? `"${clean}"` : clean;
}

function xAlternatives(items: string[]): string {
  return items.length === 1 ? (items[0] as string) : `(${items.join(' OR ')})`;
}

/** Renders a query AST in X's recent-search syntax. */
export function toXQuery(node: QueryNode): string {
  switch (node.type) {
    case 'term':
    case 'phrase':
      return xAlternatives(searchVariants(node.raw).map((v) => xTerm(v, node.type === 'phrase')));
    case 'hashtag':
      return xAlternatives(searchVariants(node.raw).map((v) => `#${v}`));
    case 'mention':
      return `@${node.raw.split('@')[0]}`;
    case 'from':
      return `from:${node.value.split('@')[0]}`;
    case 'lang':
      return `lang:${node.value}`;
    case 'url':
      return `url:"${node.value.replace(/"/gu, '')}"`;
    case 'is':
      return node.value === 'reply' ? 'is:reply' : 'is:retweet';
    case 'not': {
      const inner = toXQuery(node.child);
      return node.child.type === 'and' || node.child.type === 'or' ? `-(${inner})` : `-${inner}`;
    }
    case 'and':
      return node.children
        .map((child) => (child.type === 'or' ? `(${toXQuery(child)})` : toXQuery(child)))
        .join(' ');
    case 'or':
      return node.children.map((child) => toXQuery(child)).join(' OR ');
  }
}

/** True when the node can match on its own (X refuses clauses made only of negations and filters). */
function hasPositiveContent(node: QueryNode): boolean {
  switch (node.type) {
    case 'term':
    case 'phrase':
    case 'hashtag':
    case 'mention':
    case 'from':
    case 'url':
      return true;
    case 'lang':
    case 'is':
    case 'not':
      return false;
    case 'and':
      return node.children.some(hasPositiveContent);
    case 'or':
      return node.children.every(hasPositiveContent);
  }
}

interface Unit {
  readonly watchId: string;
  readonly text: string;
}

/** A watch whose top level is OR becomes one unit per alternative, so it can spread over queries. */
function unitsOf(watch: CompiledWatch): Unit[] {
  const { ast } = watch;
  const parts = ast.type === 'or' && ast.children.every(hasPositiveContent) ? ast.children : [ast];
  return parts.map((part) => {
    const text = toXQuery(part);
    return { watchId: watch.id, text: part.type === 'and' || part.type === 'or' ? `(${text})` : text };
  });
}

/**
 * Packs every watch into as few X queries as fit the length limit (first-fit decreasing), joining
 * watches with OR. Fewer queries mean fewer requests against the 15-minute rate limit.
 */
export function compileXQueries(watches: readonly CompiledWatch[], options: XQueryOptions): XQueryPlan {
  const suffix = options.excludeReposts ? ' -is:retweet' : '';
  const problems: Array<{ watchId: string; message: string }> = [];
  const units: Unit[] = [];
  for (const watch of watches) {
    for (const unit of unitsOf(watch)) {
      const alone = unit.text.length + suffix.length + (suffix ? 2 : 0);
      if (alone > options.maxLength) {
        problems.push({
          watchId: watch.id,
          message: `this watch needs ${alone} characters as an X query; X allows ${options.maxLength}. Split it into several watches or shorten it`,
        });
      } else {
        units.push(unit);
      }
    }
  }
  units.sort((a, b) => b.text.length - a.text.length);

  const bins: Array<{ parts: string[]; watchIds: Set<string>; length: number }> = [];
  for (const unit of units) {
    const needed = (length: number, count: number) =>
      (count > 1 || suffix ? length + 2 : length) + suffix.length; // parentheses around an OR list
    let bin = bins.find(
      (b) => needed(b.length + 4 + unit.text.length, b.parts.length + 1) <= options.maxLength,
    );
    if (bin === undefined) {
      bin = { parts: [], watchIds: new Set(), length: -4 };
      bins.push(bin);
    }
    bin.parts.push(unit.text);
    bin.watchIds.add(unit.watchId);
    bin.length += 4 + unit.text.length;
  }
  const queries = bins.map((bin) => {
    const body = bin.parts.join(' OR ');
    const query = suffix ? `${bin.parts.length > 1 ? `(${body})` : body}${suffix}` : body;
    return { query, watchIds: [...bin.watchIds] };
  });
  return { queries, problems };
}

/**
 * The most sources one account polls (X search queries; Mastodon hashtag timelines, besides its
 * mentions and a few searches; Bluesky searches): each is a request per poll. A configuration that
 * needs more is refused (checkConfig); the worker never polls more than this.
 */
export const MAX_SOURCES_PER_ACCOUNT = 100;

export interface MastodonSources {
  /** Hashtag timelines to follow (without #): explicit hashtags and single words that can be hashtags. */
  readonly hashtags: readonly string[];
  /** Terms and phrases for v2 search (best effort: the server may index few posts). */
  readonly searchTerms: readonly string[];
}

const HASHTAG_NAME = /^[\p{L}\p{M}\p{N}_]+$/u;

/** What to ask a Mastodon server for: hashtags to follow and search terms, from each watch's leading positive clause. */
export function compileMastodonSources(watches: readonly CompiledWatch[]): MastodonSources {
  const hashtags = new Set<string>();
  const searchTerms = new Set<string>();
  const visit = (node: QueryNode) => {
    switch (node.type) {
      case 'hashtag':
        for (const v of searchVariants(node.raw)) hashtags.add(v);
        return;
      case 'term':
      case 'phrase': {
        const text = node.raw.normalize('NFKC').toLowerCase();
        searchTerms.add(text);
        if (node.type === 'term' && HASHTAG_NAME.test(text) && !/^\d+$/u.test(text)) {
          for (const v of searchVariants(text)) hashtags.add(v);
        }
        return;
      }
      case 'and': {
        // Brand names usually lead (`(ブクログ OR booklog) (落ちてる OR エラー)`); following every word
        // of an AND would fill the timeline with noise such as #落ちてる.
        const first = node.children.find(hasPositiveContent);
        if (first !== undefined) visit(first);
        return;
      }
      case 'or':
        for (const child of node.children) visit(child);
        return;
      default:
        return; // negations and filters add nothing to ask for
    }
  };
  for (const watch of watches) visit(watch.ast);
  return { hashtags: [...hashtags], searchTerms: [...searchTerms] };
}

export interface BlueskyQuery {
  /** One `app.bsky.feed.searchPosts` `q`: terms joined by spaces (all must occur). */
  readonly query: string;
  /** Watches this query searches for. */
  readonly watchIds: readonly string[];
}

export interface BlueskyQueryPlan {
  readonly queries: readonly BlueskyQuery[];
  /** Watches that cannot be searched for (they still match posts from the stream). */
  readonly problems: ReadonlyArray<{ readonly watchId: string; readonly message: string }>;
}

/** Most searches one watch may turn into (each is a request per poll). */
export const BLUESKY_MAX_QUERIES_PER_WATCH = 12;

// Bluesky's search takes space-separated terms that must all occur, "quoted phrases", #tags and the
// operators from:, mentions:, lang: and domain:; it has no OR. An OR therefore becomes several
// searches. What the search cannot say (negations, is:reply) is left out: that only widens the net,
// and the local matcher has the last word.
function blueskyTerm(text: string): string {
  const clean = text.replace(/"/gu, ' ').trim();
  return /[\s():]|^[-#@]/u.test(clean) ? `"${clean}"` : clean;
}

/** The alternatives (each a list of terms that must all occur) that cover `node`; null when nothing positive. */
function blueskyAlternatives(node: QueryNode): string[][] | null {
  switch (node.type) {
    case 'term':
    case 'phrase':
      return searchVariants(node.raw).map((v) => [
        node.type === 'phrase' ? `"${v.replace(/"/gu, ' ').trim()}"` : blueskyTerm(v),
      ]);
    case 'hashtag':
      return searchVariants(node.raw).map((v) => [`#${v}`]);
    // Bluesky's search drops a `mentions:` or `from:` whose value is no handle (no domain), and a query
    // left with nothing finds every post (palomar's parse_query.go): an X or Mastodon name is searched
    // as the word it is in a post's text ("@name" stays a word there), and an author no Bluesky
    // account can be is nothing to search for.
    case 'mention': {
      const name = node.raw.replace(/^@/u, '');
      return [[isValidHandle('bluesky', name.toLowerCase()) ? `mentions:${name}` : blueskyTerm(`@${name}`)]];
    }
    case 'from': {
      const name = node.value.replace(/^@/u, '');
      return isValidHandle('bluesky', name.toLowerCase()) ? [[`from:${name}`]] : null;
    }
    case 'lang':
      return [[`lang:${node.value}`]];
    case 'url': {
      const host = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#\s]+)/iu.exec(node.value)?.[1];
      return host?.includes('.') ? [[`domain:${host}`]] : null;
    }
    case 'is':
    case 'not':
      return null;
    case 'or': {
      const out: string[][] = [];
      for (const child of node.children) {
        const alts = blueskyAlternatives(child);
        if (alts === null) return null; // an alternative that cannot be searched: the OR cannot be
        out.push(...alts);
      }
      return out;
    }
    case 'and': {
      let product: string[][] = [[]];
      let first: string[][] | null = null;
      for (const child of node.children) {
        const alts = blueskyAlternatives(child);
        if (alts === null) continue;
        first ??= alts;
        const next = product.flatMap((p) => alts.map((a) => [...p, ...a]));
        // Too many combinations: keep the leading clause only (a wider net, never a narrower one).
        if (next.length > BLUESKY_MAX_QUERIES_PER_WATCH) return first;
        product = next;
      }
      return first === null ? null : product;
    }
  }
}

/** The Bluesky searches that find every post the watches can match (a superset: the matcher filters). */
export function compileBlueskyQueries(watches: readonly CompiledWatch[]): BlueskyQueryPlan {
  const byQuery = new Map<string, Set<string>>();
  const problems: Array<{ watchId: string; message: string }> = [];
  for (const watch of watches) {
    const alts = blueskyAlternatives(watch.ast);
    if (alts === null || alts.some((a) => !a.some((t) => !t.startsWith('lang:')))) {
      problems.push({
        watchId: watch.id,
        message:
          'this watch has no word, phrase, hashtag, mention, author or domain Bluesky search can look for; it matches stream posts only',
      });
      continue;
    }
    if (alts.length > BLUESKY_MAX_QUERIES_PER_WATCH) {
      problems.push({
        watchId: watch.id,
        message: `this watch needs ${alts.length} Bluesky searches (Bluesky search has no OR); at most ${BLUESKY_MAX_QUERIES_PER_WATCH} per watch. Split it into several watches`,
      });
      continue;
    }
    for (const alt of alts) {
      const query = [...new Set(alt)].join(' ');
      const ids = byQuery.get(query) ?? new Set<string>();
      ids.add(watch.id);
      byQuery.set(query, ids);
    }
  }
  return { queries: [...byQuery].map(([query, ids]) => ({ query, watchIds: [...ids] })), problems };
}
