import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLUESKY_MAX_QUERIES_PER_WATCH,
  compileBlueskyQueries,
  compileMastodonSources,
  compileXQueries,
  searchVariants,
  toXQuery,
} from './platform-queries.ts';
import { parseQuery } from './query/parse.ts';

const watch = (id: string, query: string) => ({ id, ast: parseQuery(query) });

describe('toXQuery', () => {
  it.each([
    ['booklog', 'booklog'],
    ['ブクログ', '(ブクログ OR ぶくろぐ)'],
    ['ﾌﾞｸﾛｸﾞ', '(ブクログ OR ぶくろぐ)'],
    ['ＢＯＯＫＬＯＧ', 'booklog'],
    ['"booklog app"', '"booklog app"'],
    ['booklog -is:repost', 'booklog -is:retweet'],
    ['booklog is:reply lang:ja', 'booklog is:reply lang:ja'],
    ['(a OR b) c', '(a OR b) c'],
    ['a OR b c', 'a OR b c'],
    ['booklog -from:booklog_jp', 'booklog -from:booklog_jp'],
    ['#ブクログ', '(#ブクログ OR #ぶくろぐ)'],
    ['@booklog_support', '@booklog_support'],
    ['booklog url:booklog.jp', 'booklog url:"booklog.jp"'],
    ['booklog -(落ちてる OR 重い)', 'booklog -(落ちてる OR 重い)'],
  ])('%s → %s', (query, expected) => {
    expect(toXQuery(parseQuery(query))).toBe(expected);
  });
});

describe('compileXQueries', () => {
  it('packs many watches into few queries within the limit', () => {
    const watches = Array.from({ length: 100 }, (_, i) => watch(`w${i}`, `brand${i} (down OR error)`));
    const plan = compileXQueries(watches, { maxLength: 512, excludeReposts: true });
    expect(plan.problems).toEqual([]);
    for (const q of plan.queries) {
      expect(q.query.length).toBeLessThanOrEqual(512);
      expect(q.query.endsWith(' -is:retweet')).toBe(true);
    }
    // 100 clauses of ~24 characters: about 5 per 512-character query, never one per watch.
    expect(plan.queries.length).toBeLessThan(10);
    expect(new Set(plan.queries.flatMap((q) => q.watchIds)).size).toBe(100);
  });

  it('splits a watch whose top level is OR across queries when it must', () => {
    const long = Array.from({ length: 60 }, (_, i) => `brandname${i}`).join(' OR ');
    const plan = compileXQueries([watch('big', long)], { maxLength: 512, excludeReposts: false });
    expect(plan.problems).toEqual([]);
    expect(plan.queries.length).toBeGreaterThan(1);
    expect(plan.queries.every((q) => q.query.length <= 512 && q.watchIds[0] === 'big')).toBe(true);
    const terms = plan.queries.flatMap((q) => q.query.split(' OR '));
    expect(new Set(terms).size).toBe(60);
  });

  it('reports a watch that cannot fit instead of sending a query X would refuse', () => {
    const long = `${'x'.repeat(600)} y`;
    const plan = compileXQueries([watch('huge', long)], { maxLength: 512, excludeReposts: true });
    expect(plan.queries).toEqual([]);
    expect(plan.problems[0]?.watchId).toBe('huge');
    expect(plan.problems[0]?.message).toMatch(/X allows 512/);
  });

  it('keeps every query within the limit for any set of watches', () => {
    const word = fc.stringMatching(/^[a-z]{1,12}$/u);
    const query = fc
      .array(word, { minLength: 1, maxLength: 8 })
      .chain((ws) => fc.constantFrom(ws.join(' '), ws.join(' OR '), `(${ws.join(' OR ')}) down`));
    fc.assert(
      fc.property(
        fc.array(query, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 64, max: 512 }),
        (queries, max) => {
          const plan = compileXQueries(
            queries.map((q, i) => watch(`w${i}`, q)),
            { maxLength: max, excludeReposts: true },
          );
          for (const q of plan.queries) expect(q.query.length).toBeLessThanOrEqual(max);
          const covered = new Set([
            ...plan.queries.flatMap((q) => q.watchIds),
            ...plan.problems.map((p) => p.watchId),
          ]);
          expect(covered.size).toBe(queries.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('compileMastodonSources', () => {
  it('follows the hashtags and brand words of each watch, not the topic words', () => {
    const sources = compileMastodonSources([
      watch('brand', '(ブクログ OR booklog OR "booklog app") (落ちてる OR エラー) -from:booklog_jp'),
      watch('tag', '#読書週間'),
    ]);
    expect(sources.hashtags).toEqual(expect.arrayContaining(['ブクログ', 'ぶくろぐ', 'booklog', '読書週間']));
    expect(sources.hashtags).not.toContain('落ちてる');
    expect(sources.hashtags).not.toContain('booklog app');
    expect(sources.searchTerms).toEqual(expect.arrayContaining(['ブクログ', 'booklog', 'booklog app']));
  });

  it('gives both kana spellings', () => {
    expect(searchVariants('ブクログ')).toEqual(['ブクログ', 'ぶくろぐ']);
    expect(searchVariants('Booklog')).toEqual(['booklog']);
  });
});

describe('compileBlueskyQueries', () => {
  const queries = (query: string) => compileBlueskyQueries([watch('w', query)]).queries.map((q) => q.query);

  it.each([
    ['booklog', ['booklog']],
    ['"booklog app"', ['"booklog app"']],
    ['#ブクログ', ['#ブクログ', '#ぶくろぐ']],
    ['booklog 落ちてる', ['booklog 落ちてる']],
    // No OR in Bluesky search: one search per alternative.
    ['booklog OR 本棚', ['booklog', '本棚']],
    [
      '(booklog OR 本棚) (落ちてる OR 重い)',
      ['booklog 落ちてる', 'booklog 重い', '本棚 落ちてる', '本棚 重い'],
    ],
    // What search cannot say is left out: a wider net; the matcher decides.
    ['booklog -is:repost -落ちてる', ['booklog']],
    ['booklog lang:ja from:alice.bsky.social', ['booklog lang:ja from:alice.bsky.social']],
    ['@booklog.bsky.social', ['mentions:booklog.bsky.social']],
    // Names that are no Bluesky handle: search would drop the operator and find everything.
    ['@booklog_jp', ['"@booklog_jp"']],
    ['@booklog_jp OR @booklog.bsky.social', ['"@booklog_jp"', 'mentions:booklog.bsky.social']],
    ['booklog -from:booklog_jp', ['booklog']],
    ['booklog from:booklog_jp', ['booklog']],
    ['booklog url:https://booklog.jp/help', ['booklog domain:booklog.jp']],
  ])('%s → %j', (query, expected) => {
    expect(queries(query)).toEqual(expected);
  });

  it('keeps only the leading clause when an AND would need too many searches', () => {
    const many = Array.from({ length: 5 }, (_, i) => `(a${i} OR b${i})`).join(' ');
    expect(queries(many)).toEqual(['a0', 'b0']);
  });

  it('reports a watch that search cannot look for, or one whose top-level OR needs too many searches', () => {
    const plan = compileBlueskyQueries([
      watch('neg', 'url:booklog lang:ja'),
      watch(
        'wide',
        Array.from({ length: BLUESKY_MAX_QUERIES_PER_WATCH + 1 }, (_, i) => `w${i}`).join(' OR '),
      ),
      watch('ok', 'booklog'),
      watch('same', 'booklog'),
    ]);
    expect(plan.problems.map((p) => p.watchId)).toEqual(['neg', 'wide']);
    expect(plan.queries).toEqual([{ query: 'booklog', watchIds: ['ok', 'same'] }]);
  });
});
