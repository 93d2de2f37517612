import type { PlatformAccount } from '@kikimimi/db';
import { configSchema, createRulesEngine, MAX_SOURCES_PER_ACCOUNT } from '@kikimimi/rules';
import { describe, expect, it } from 'vitest';
import { sourcesFor } from './sources.ts';

/* Issue 14 item 3: an account never polls more than MAX_SOURCES_PER_ACCOUNT sources. */

const account = (platform: 'x' | 'mastodon' | 'bluesky', streamEnabled = false) =>
  ({ id: 'a', platform, streamEnabled }) as unknown as PlatformAccount;

describe('sourcesFor', () => {
  it('caps the Mastodon hashtag timelines of one account', () => {
    // Built without loadConfig (which refuses this many): a configuration stored before the cap.
    const watches = Array.from({ length: 300 }, (_, i) => ({ id: `w${i}`, query: `word${i}` }));
    const engine = createRulesEngine(configSchema.parse({ watches }));
    const { poll } = sourcesFor(account('mastodon'), engine);
    expect(poll.filter((s) => s.kind === 'hashtag')).toHaveLength(MAX_SOURCES_PER_ACCOUNT);
    expect(poll.filter((s) => s.kind === 'mentions')).toHaveLength(1);
  });

  it('caps the X search queries of one account', () => {
    const watches = Array.from({ length: 1500 }, (_, i) => ({
      id: `w${i}`,
      query: `"a rather long product name number ${i}" ログインできない`,
      platforms: ['x' as const],
    }));
    const engine = createRulesEngine(configSchema.parse({ watches }));
    expect(engine.xQueries.queries.length).toBeGreaterThan(MAX_SOURCES_PER_ACCOUNT);
    expect(sourcesFor(account('x'), engine).poll).toHaveLength(MAX_SOURCES_PER_ACCOUNT);
  });

  it('caps the Bluesky searches of one account', () => {
    // Built without loadConfig (which refuses this many): a configuration stored before the cap.
    const watches = Array.from({ length: 150 }, (_, i) => ({
      id: `w${i}`,
      query: `"brand ${i}" OR "product ${i}"`,
      platforms: ['bluesky' as const],
    }));
    const engine = createRulesEngine(configSchema.parse({ watches }));
    expect(engine.blueskyQueries.queries.length).toBe(300);
    expect(sourcesFor(account('bluesky'), engine).poll).toHaveLength(MAX_SOURCES_PER_ACCOUNT);
  });

  it('polls a Bluesky account with the watches compiled to Bluesky search, and streams the firehose when asked', () => {
    const engine = createRulesEngine(
      configSchema.parse({
        watches: [
          { id: 'brand', query: '"kiki mimi" OR kikimimi' },
          { id: 'x-only', query: 'xonly', platforms: ['x'] },
        ],
      }),
    );
    const off = sourcesFor(account('bluesky'), engine);
    // Bluesky search has no OR: one search per alternative; not the X-only watch, nothing of Mastodon's.
    expect(off.poll.map((s) => [s.platform, s.kind, 'query' in s ? s.query : null])).toEqual([
      ['bluesky', 'search', '"kiki mimi"'],
      ['bluesky', 'search', 'kikimimi'],
    ]);
    expect(new Set(off.poll.map((s) => s.key)).size).toBe(2);
    expect(off.stream).toEqual([]);
    // Stable keys: the same query keeps its cursor.
    expect(sourcesFor(account('bluesky'), engine).poll.map((s) => s.key)).toEqual(off.poll.map((s) => s.key));
    expect(sourcesFor(account('bluesky', true), engine).stream).toEqual([
      { platform: 'bluesky', kind: 'firehose', key: 'bluesky-firehose' },
    ]);
  });
});
