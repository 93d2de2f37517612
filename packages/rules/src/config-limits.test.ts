import { describe, expect, it } from 'vitest';
import { CONFIG_LIMITS } from './config.ts';
import { loadConfig } from './load-config.ts';
import { MAX_SOURCES_PER_ACCOUNT } from './platform-queries.ts';

/* Issue 14 item 3: documented limits on the configuration's size, with clear errors. */

const watches = (n: number, query = (i: number) => `"brand ${i}" ログイン`) =>
  Array.from({ length: n }, (_, i) => ({ id: `w${i}`, query: query(i), platforms: ['x'] }));

describe('configuration limits', () => {
  it('refuses more watches than the limit, fast, naming the limit', () => {
    const started = performance.now();
    const result = loadConfig({ watches: watches(100_000) });
    const ms = performance.now() - started;
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      {
        path: 'watches',
        message: `at most ${CONFIG_LIMITS.watches} watches in a configuration (kikimimi's limit)`,
      },
    ]);
    expect(ms).toBeLessThan(2_000);
  });

  it('accepts exactly the limit', () => {
    // Short queries on X: X combines them into few search queries (within the cap of sources).
    const result = loadConfig({ watches: watches(CONFIG_LIMITS.watches, (i) => `b${i}`) });
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it.each([
    [
      'templates',
      {
        templates: Array.from({ length: CONFIG_LIMITS.templates + 1 }, (_, i) => ({
          id: `t${i}`,
          category: 'thanks',
          text: 'ありがとうございます',
        })),
      },
    ],
    [
      'escalation',
      {
        escalation: Array.from({ length: CONFIG_LIMITS.escalation + 1 }, (_, i) => ({
          id: `e${i}`,
          actions: {},
        })),
      },
    ],
    [
      'suppression.doNotContact',
      {
        suppression: {
          doNotContact: Array.from({ length: CONFIG_LIMITS.doNotContact + 1 }, (_, i) => ({
            platform: 'x',
            handle: `p${i}`,
          })),
        },
      },
    ],
    [
      'suppression.ownAccounts',
      {
        suppression: {
          ownAccounts: Array.from({ length: CONFIG_LIMITS.ownAccounts + 1 }, (_, i) => ({
            platform: 'x',
            handle: `p${i}`,
          })),
        },
      },
    ],
    [
      'classifier.praise',
      { classifier: { praise: Array.from({ length: CONFIG_LIMITS.words + 1 }, (_, i) => `w${i}`) } },
    ],
    [
      'escalation[0].actions.mentionRoles',
      {
        escalation: [
          {
            id: 'e',
            actions: {
              mentionRoles: Array.from({ length: CONFIG_LIMITS.mentionRoles + 1 }, (_, i) => `r${i}`),
            },
          },
        ],
      },
    ],
  ])('refuses too many %s', (path, input) => {
    const result = loadConfig(input);
    expect(result.ok).toBe(false);
    const problem = (result.ok ? [] : result.problems).find((p) => p.path === path);
    expect(problem?.message).toMatch(/^at most \d+ .+ \(kikimimi's limit\)$/u);
  });

  it('refuses watches that would make an account follow more than the cap of Mastodon sources', () => {
    const many = Array.from({ length: MAX_SOURCES_PER_ACCOUNT + 10 }, (_, i) => ({
      id: `m${i}`,
      query: `word${i}`,
    }));
    const result = loadConfig({ watches: many });
    expect(result.ok).toBe(false);
    expect((result.ok ? [] : result.problems)[0]).toMatchObject({ path: 'watches' });
    expect((result.ok ? [] : result.problems)[0]?.message).toMatch(
      new RegExp(
        `need ${MAX_SOURCES_PER_ACCOUNT + 10} Mastodon hashtag timelines; an account follows at most ${MAX_SOURCES_PER_ACCOUNT}`,
        'u',
      ),
    );
    // The same watches on X only are fine there (X combines them into few queries).
    expect(loadConfig({ watches: many.map((w) => ({ ...w, platforms: ['x'] })) }).ok).toBe(true);
  });

  it('refuses watches that would make an account poll more than the cap of Bluesky searches', () => {
    // Bluesky search has no OR: each alternative is a search (phrases: no Mastodon hashtags either).
    const watches = (platforms: Array<'x' | 'mastodon' | 'bluesky'>) =>
      Array.from({ length: MAX_SOURCES_PER_ACCOUNT / 2 + 1 }, (_, i) => ({
        id: `b${i}`,
        query: `"brand ${i}" OR "product ${i}"`,
        platforms,
      }));
    const result = loadConfig({ watches: watches(['bluesky']) });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      {
        path: 'watches',
        message: expect.stringMatching(
          new RegExp(
            `^these watches need ${MAX_SOURCES_PER_ACCOUNT + 2} Bluesky searches; an account polls at most ${MAX_SOURCES_PER_ACCOUNT} \\(kikimimi's limit\\)`,
            'u',
          ),
        ),
      },
    ]);
    // One fewer is fine, and so are the same watches elsewhere.
    expect(loadConfig({ watches: watches(['bluesky']).slice(1) }).ok).toBe(true);
    expect(loadConfig({ watches: watches(['x', 'mastodon']) }).ok).toBe(true);
  });
});
