import { readFile } from 'node:fs/promises';
import type { MatchRecord } from '@kikimimi/db';
import { type Category, type Config, loadConfig, type PostInput, postSchema } from '@kikimimi/rules';
import { beforeAll, describe, expect, it } from 'vitest';
import { replyDraft } from './desk.ts';

/* The text Discord's reply modal is prefilled with, from the example configuration's templates. */

let config: Config;
beforeAll(async () => {
  const example = new URL('../../../docs/examples/shiori-note.json', import.meta.url);
  const loaded = loadConfig(JSON.parse(await readFile(example, 'utf8')));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  config = loaded.config;
});

function match(platform: 'x' | 'mastodon', lang: string | null, watch = 'brand') {
  const input: PostInput = {
    platform,
    id: '1',
    url: 'https://x.com/alex/status/1',
    author: { id: 'a1', handle: 'alex_m', displayName: 'Alex M.' },
    text: 'Shiori Note keeps crashing',
    lang,
    createdAt: '2026-11-20T10:00:00Z',
  };
  const decision = { watches: [watch] } as unknown as MatchRecord['decision'];
  return { platform, post: postSchema.parse(input), decision };
}

describe('replyDraft: the reply in the customer’s language', () => {
  it.each<['x' | 'mastodon', Category, string]>([
    ['x', 'apology', 'apology-en'],
    ['x', 'thanks', 'thanks-en'],
    ['mastodon', 'guidance', 'guidance-en'],
  ])('an English post on %s gets the English %s template', (platform, category, id) => {
    const draft = replyDraft(match(platform, 'en'), category, config);
    expect(draft.template?.id).toBe(id);
    expect(draft.text).toMatch(/^Hi Alex M\., /u);
    expect(draft.text).not.toMatch(/さん|\p{Script=Hiragana}/u);
  });

  it('a Japanese post gets the Japanese template, the X one on X', () => {
    expect(replyDraft(match('x', 'ja'), 'apology', config).template?.id).toBe('apology-x');
    expect(replyDraft(match('mastodon', 'ja'), 'apology', config).template?.id).toBe('apology');
  });

  it('the campaign watch’s own template, in the post’s language', () => {
    expect(replyDraft(match('x', 'en', 'campaign'), 'custom', config).template?.id).toBe(
      'campaign-thanks-en',
    );
    expect(replyDraft(match('x', 'ja', 'campaign'), 'custom', config).template?.id).toBe('campaign-thanks');
  });
});
