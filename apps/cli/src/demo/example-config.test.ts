import { readFile } from 'node:fs/promises';
import {
  configSchema,
  createRulesEngine,
  loadConfig,
  type Platform,
  type Post,
  postSchema,
} from '@kikimimi/rules';
import { createPostGenerator, demoBrand, type GeneratedPost } from '@kikimimi/sandbox';
import { describe, expect, it } from 'vitest';
import { nothingConfigured, placeDemoPost } from './world.ts';

const EXAMPLE = new URL('../../../../docs/examples/shiori-note.json', import.meta.url);

/** The demo world's first minutes, run through the rules as the worker would (the connectors' shape). */
async function decideDemoPosts(count: number) {
  const loaded = loadConfig(JSON.parse(await readFile(EXAMPLE, 'utf8')));
  if (!loaded.ok) throw new Error(`example configuration: ${JSON.stringify(loaded.problems)}`);
  const engine = createRulesEngine(loaded.config);
  const now = new Date('2026-11-20T10:00:00Z');
  const generator = createPostGenerator({ seed: 7, brands: [demoBrand], now: () => now });
  const placed = new Map<string, { platform: Platform; id: string }>();
  const decided: {
    generated: GeneratedPost;
    platform: Platform;
    repostOf: string | null;
    decision: ReturnType<typeof engine.decide>;
    post: Post;
  }[] = [];
  for (const generated of generator.take(count)) {
    const placement = placeDemoPost(generated, ['x', 'mastodon', 'bluesky'], placed);
    if (placement === null) continue;
    const id = `${placement.platform}-${generated.ref}`;
    placed.set(generated.ref, { platform: placement.platform, id });
    const { input } = placement;
    const post = postSchema.parse({
      platform: placement.platform,
      id,
      url: `https://${placement.platform}.example/${id}`,
      author: {
        id: input.author.id ?? input.author.handle,
        handle: input.author.handle,
        displayName: input.author.name ?? '',
      },
      text: input.text,
      lang: input.lang ?? null,
      createdAt: new Date(input.createdAt ?? now).toISOString(),
      repostOf: input.repostOf ?? null,
      hashtags: input.hashtags ?? [],
      // On Bluesky mentions come from the post's mention facets (the stand-in makes them as the app does).
      mentions:
        placement.platform === 'bluesky'
          ? [...input.text.matchAll(/@([a-z0-9-]+(?:\.[a-z0-9-]+)+)/gu)].map((m) => m[1] as string)
          : [],
    });
    const decision = engine.decide(post, { now });
    decided.push({ generated, platform: placement.platform, repostOf: post.repostOf, decision, post });
  }
  return decided;
}

describe('the example configuration and the demo world agree', () => {
  it("suppresses the brand's own announcements and every repost, on every platform", async () => {
    const decided = await decideDemoPosts(3000);
    const matched = decided.filter((d) => d.decision.matched);
    const reasonsOf = (d: (typeof decided)[number]) =>
      d.decision.matched ? d.decision.suppression.reasons : [];

    const official = matched.filter((d) => d.generated.kind === 'official');
    expect(new Set(official.map((d) => d.platform))).toEqual(new Set(['x', 'mastodon', 'bluesky']));
    for (const d of official) expect(reasonsOf(d), d.generated.text).toContain('own_account');

    const reposts = matched.filter((d) => d.generated.kind === 'repost');
    // Reposts of posts placed on the other platform stay "RT @…" texts (as cross-posted reposts do).
    expect(reposts.filter((d) => d.repostOf === null).length).toBeGreaterThan(5);
    expect(new Set(reposts.map((d) => d.platform))).toEqual(new Set(['x', 'mastodon', 'bluesky']));
    for (const d of reposts) expect(reasonsOf(d), d.generated.text).toContain('repost');

    // Everything else that the demo puts in front of reviewers is someone else's post.
    const ownHandles = new Set(demoBrand.officialHandles ?? []);
    const open = matched.filter((d) => d.decision.matched && !d.decision.suppressed);
    expect(open.length).toBeGreaterThan(100);
    for (const d of open) expect(ownHandles.has(d.generated.author.handle), d.generated.text).toBe(false);
    // The platforms take turns: each gets about a third.
    for (const platform of ['x', 'mastodon', 'bluesky'])
      expect(decided.filter((d) => d.platform === platform).length).toBeGreaterThan(900);
  });

  it('writes Bluesky posts with Bluesky handles, within 300 graphemes, and finds them by the Bluesky searches', async () => {
    const decided = (await decideDemoPosts(3000)).filter((d) => d.platform === 'bluesky');
    const loaded = loadConfig(JSON.parse(await readFile(EXAMPLE, 'utf8')));
    if (!loaded.ok) throw new Error('example configuration');
    const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    for (const d of decided) {
      expect(d.post.author.handle).toMatch(/^[a-z0-9-]+\.bsky\.social$/u);
      expect([...segmenter.segment(d.post.text)].length).toBeLessThanOrEqual(300);
    }
    // A mention of the support account is written the Bluesky way, and the Bluesky watch finds it.
    const toSupport = decided.filter((d) => d.post.text.includes('@shiorinote-support.bsky.social'));
    expect(toSupport.length).toBeGreaterThan(0);
    for (const d of toSupport.filter((x) => x.generated.kind !== 'official'))
      expect(d.decision.matched && d.decision.watches).toContain('support-mentions-bluesky');
    const searches = loaded.engine.blueskyQueries.queries.map((q) => q.query);
    expect(searches).toContain('mentions:shiorinote-support.bsky.social');
    expect(searches.some((q) => q.startsWith('mentions:') && !q.includes('.'))).toBe(false);
  });
});

describe('the demo world loads the example configuration', () => {
  const empty = configSchema.parse({});
  it.each([
    ['when none was ever saved', { version: 0, config: empty }, true],
    [
      'when the setup saved only the time zone',
      { version: 1, config: configSchema.parse({ organization: { timeZone: 'Asia/Tokyo' } }) },
      true,
    ],
    [
      'not over a configuration with watches',
      { version: 3, config: configSchema.parse({ watches: [{ id: 'a', query: 'a' }] }) },
      false,
    ],
  ])('%s', (_name, current, expected) => {
    expect(nothingConfigured(current)).toBe(expected);
  });
});
