import twitterText from 'twitter-text';
import { describe, expect, it } from 'vitest';
import type { Category } from '../config.ts';
import { type Platform, type Post, type PostInput, postSchema } from '../post.ts';
import {
  checkTemplateText,
  listPlaceholders,
  MENTION_BREAKER,
  pickTemplate,
  renderTemplate,
  type SelectableTemplate,
  sanitizePostUrl,
  selectTemplates,
  TemplateError,
  type TemplateProblemCode,
} from './render.ts';

function post(author: Partial<PostInput['author']> = {}, url = 'https://x.com/alice/status/1'): Post {
  return postSchema.parse({
    platform: 'x',
    id: '1',
    url,
    author: { id: 'a1', handle: 'alice', displayName: '山田花子', ...author },
    text: 'ありがとう',
    createdAt: '2025-01-01T00:00:00Z',
  });
}

const variables = { helpUrl: 'https://help.example.com/faq', brand: 'キキミミ' };
const watch = { id: 'brand', name: 'ブランド名' };

function render(text: string, p: Post = post(), w: { id: string; name?: string } = watch): string {
  return renderTemplate({ text }, { post: p, watch: w, variables });
}

// What each platform (and Discord) would treat as a mention in the text we send.
const BRIEF_MASTODON_MENTION = /(?<=^|[^/\w])@(([a-z0-9_]+)(?:@[\w.-]+\w)?)/giu;
const MASTODON_4_MENTION =
  /(?<![=/\p{L}\p{M}\p{Nd}\p{Pc}])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\p{L}\p{M}\p{Nd}\p{Pc}]+(?:[.-]+[\p{L}\p{M}\p{Nd}\p{Pc}]+)*)?/giu;
const DISCORD_MENTION = /@(?:everyone|here)|<@[!&]?\d+>/u;

function mentionsIn(text: string): string[] {
  const entities = twitterText.extractEntitiesWithIndices(text).filter((e) => 'screenName' in e);
  return [
    ...twitterText.extractMentions(text).map((m) => `x:${m}`),
    ...entities.map((e) => `x-entity:${'screenName' in e ? e.screenName : ''}`),
    ...[...text.matchAll(BRIEF_MASTODON_MENTION)].map((m) => `mastodon:${m[1]}`),
    ...[...text.matchAll(MASTODON_4_MENTION)].map((m) => `mastodon4:${m[0]}`),
    ...(DISCORD_MENTION.test(text) ? ['discord'] : []),
  ];
}

describe('renderTemplate', () => {
  it.each([
    ['{author.name}さん、ありがとうございます！', {}, '山田花子さん、ありがとうございます！'],
    ['{author.handle}', {}, 'alice'],
    ['{author.handle}', { handle: '@alice' }, 'alice'],
    ['{author.name}さん', { displayName: '' }, 'aliceさん'],
    ['{author.name}さん', { displayName: ' \n\t ' }, 'aliceさん'],
    ['{author.name}さん', { displayName: '山田\n花子\u0000\u202e' }, '山田 花子さん'],
    ['{author.name}', { displayName: 'a\r\n\r\nb\u2028c' }, 'a b c'],
    ['{post.url}', {}, 'https://x.com/alice/status/1'],
    ['{watch}', {}, 'ブランド名'],
    [
      '詳しくは {vars.helpUrl} をご覧ください（{vars.brand}）',
      {},
      '詳しくは https://help.example.com/faq をご覧ください（キキミミ）',
    ],
    ['{{author.name}} は {author.name}', {}, '{author.name} は 山田花子'],
    ['{{{author.name}}}', {}, '{山田花子}'],
    ['}}{{', {}, '}{'],
    ['{author.name}', { displayName: '{vars.helpUrl}' }, '{vars.helpUrl}'],
  ])('%j with author %j → %j', (text, author, expected) => {
    expect(render(text, post(author))).toBe(expected);
  });

  it('falls back to the watch id when the watch has no name', () => {
    expect(render('{watch}', post(), { id: 'brand' })).toBe('brand');
    expect(render('{watch}', post(), { id: 'brand', name: '  ' })).toBe('brand');
  });

  it.each([
    ['a'.repeat(50), 'a'.repeat(50)],
    ['a'.repeat(51), `${'a'.repeat(49)}…`],
    ['あ'.repeat(80), `${'あ'.repeat(49)}…`],
    // Family emoji are one character each: shortened between them, never inside one.
    ['👨‍👩‍👧'.repeat(51), `${'👨‍👩‍👧'.repeat(49)}…`],
    [`${'a'.repeat(48)}  ${'b'.repeat(10)}`, `${'a'.repeat(48)}…`],
  ])('shortens a long display name (%#)', (displayName, expected) => {
    expect(render('{author.name}', post({ displayName }))).toBe(expected);
  });

  it.each([
    ['{author.nmae}', 'unknown-placeholder'],
    ['{vars.missing}', 'unknown-placeholder'],
    ['{author.name', 'unclosed-brace'],
    ['}', 'stray-brace'],
    ['@{author.handle}', 'mention-before-placeholder'],
  ])('refuses %j with a TemplateError', (text, code) => {
    const attempt = () => render(text);
    expect(attempt).toThrow(TemplateError);
    try {
      attempt();
    } catch (error) {
      expect((error as TemplateError).problems.map((p) => p.code)).toEqual([code]);
    }
  });
});

describe('mention injection', () => {
  const hostile = [
    '@everyone',
    '@here',
    '@someone',
    '＠someone',
    '﹫someone',
    '@user@evil.example',
    'ゆき @alice と ＠bob',
    '@@alice',
    '@\u202eeveryone',
    '@\n\neveryone',
    '<@&123456789> <@!42>',
    `${'a'.repeat(48)}@everyone`,
  ];

  it.each(hostile)('a display name %j comes out inert', (displayName) => {
    for (const template of [
      '{author.name}',
      '{author.name}さん、ありがとうございます',
      'こんにちは{author.name}',
    ]) {
      const out = render(template, post({ displayName }));
      expect(mentionsIn(out), out).toEqual([]);
    }
  });

  it.each(hostile)('a handle or watch name %j comes out inert', (value) => {
    expect(mentionsIn(render('{author.handle} さん', post({ handle: value })))).toEqual([]);
    expect(mentionsIn(render('({watch})', post(), { id: 'w', name: value }))).toEqual([]);
  });

  // Guards the detectors above: without neutralisation, the same values are mentions.
  it.each([
    ['@everyone', ['x:everyone', 'x-entity:everyone', 'mastodon:everyone', 'mastodon4:@everyone', 'discord']],
    ['＠someone', ['x:someone', 'x-entity:someone']],
    ['@user@evil.example', ['mastodon:user@evil.example', 'mastodon4:@user@evil.example']],
  ])('the detectors do see the raw value %j', (value, expected) => {
    expect(mentionsIn(value)).toEqual(expected);
  });

  it('keeps the name readable: only an invisible word joiner is added', () => {
    const out = render('{author.name}', post({ displayName: '@everyone ＠here' }));
    expect(out).toBe(`@${MENTION_BREAKER}everyone ＠${MENTION_BREAKER}here`);
    expect(out.replaceAll(MENTION_BREAKER, '')).toBe('@everyone ＠here');
  });

  it('keeps the mentions the team wrote in the template and in variables', () => {
    const out = renderTemplate(
      { text: '@acme_help または {vars.support} へ。{author.name}さん' },
      { post: post({ displayName: '@everyone' }), watch, variables: { support: '@acme_support' } },
    );
    expect(twitterText.extractMentions(out)).toEqual(['acme_help', 'acme_support']);
  });

  it('does not let an at sign from a variable combine with an outside value', () => {
    const out = renderTemplate(
      { text: '{vars.at}{author.handle}' },
      { post: post({ handle: 'everyone' }), watch, variables: { at: '@' } },
    );
    expect(mentionsIn(out)).toEqual([]);
  });

  it.each([
    ['https://x.com/alice/status/1', 'https://x.com/alice/status/1'],
    ['https://mastodon.social/@alice/113', 'https://mastodon.social/@alice/113'],
    ['https://example.social/@alice@other.example/1', 'https://example.social/@alice%40other.example/1'],
    ['https://evil.example/x)@alice', 'https://evil.example/x)%40alice'],
    [
      'https://evil.example/-@everyone?q=@here#@someone',
      'https://evil.example/-%40everyone?q=%40here#%40someone',
    ],
    ['https://evil.example/@everyone/1', 'https://evil.example/%40everyone/1'],
    ['https://evil.example/ @alice', 'https://evil.example/%20%40alice'],
    ['https://user:pw@evil.example/', 'https://evil.example/'],
    ['https://@everyone@evil.example/', 'https://evil.example/'],
    ['javascript:alert(1)//@everyone', ''],
    ['not a url', ''],
  ])('post URL %j → %j', (url, expected) => {
    expect(sanitizePostUrl(url)).toBe(expected);
    if (expected !== '') {
      const out = render('詳細: {post.url} ご確認ください', post({}, url));
      expect(out).toBe(`詳細: ${expected} ご確認ください`);
      // A "/@name" stays inside the URL entity on X and is excluded by Mastodon's look-behind.
      expect(mentionsIn(out).filter((m) => !m.startsWith('x:'))).toEqual([]);
    }
  });
});

describe('checkTemplateText', () => {
  const vars = ['helpUrl', 'brand'];

  it.each<[string, Array<[TemplateProblemCode, number, number, string?]>]>([
    ['{author.name}さん {author.handle} {post.url} {watch} {vars.helpUrl} {{x}}', []],
    ['Hi {author.nmae}!', [['unknown-placeholder', 3, 13, '{author.name}']]],
    ['{name}さん', [['unknown-placeholder', 0, 6, '{author.name}']]],
    ['{handle}', [['unknown-placeholder', 0, 8, '{author.handle}']]],
    ['{url}', [['unknown-placeholder', 0, 5, '{post.url}']]],
    ['{screen_name}', [['unknown-placeholder', 0, 13, '{author.handle}']]],
    ['{ author.name }', [['unknown-placeholder', 0, 15, '{author.name}']]],
    ['{vars.helpURL}', [['unknown-placeholder', 0, 14, '{vars.helpUrl}']]],
    ['{helpUrl}', [['unknown-placeholder', 0, 9, '{vars.helpUrl}']]],
    ['{vars.nothing}', [['unknown-placeholder', 0, 14, 'no variable "nothing"']]],
    ['{totally_else}', [['unknown-placeholder', 0, 14, '{vars.NAME}']]],
    ['{}', [['unknown-placeholder', 0, 2]]],
    ['abc {author.name', [['unclosed-brace', 4, 1]]],
    ['a } b', [['stray-brace', 2, 1]]],
    ['}}}', [['stray-brace', 2, 1]]],
    ['{{{', [['unclosed-brace', 2, 1]]],
    [
      '{author.name\n} {watch',
      [
        ['unclosed-brace', 0, 1],
        ['stray-brace', 13, 1],
        ['unclosed-brace', 15, 1],
      ],
    ],
    [
      '{x {author.nme}',
      [
        ['unclosed-brace', 0, 1],
        ['unknown-placeholder', 3, 12, '{author.name}'],
      ],
    ],
    ['お礼 @{author.handle}', [['mention-before-placeholder', 3, 16]]],
    ['＠{author.name}', [['mention-before-placeholder', 0, 14]]],
    ['@{vars.brand}', []],
    ['😀{author.nmae}', [['unknown-placeholder', 2, 13]]],
  ])('%j', (text, expected) => {
    const problems = checkTemplateText(text, vars);
    expect(problems.map((p) => [p.code, p.offset, p.length])).toEqual(expected.map((e) => e.slice(0, 3)));
    expected.forEach(([, , , hint], index) => {
      if (hint !== undefined) expect(problems[index]?.message).toContain(hint);
    });
    // Offsets are for highlighting: each problem's span is inside the text.
    for (const p of problems) expect(p.offset + p.length).toBeLessThanOrEqual(text.length);
  });

  it('suggests only variables that exist', () => {
    const [problem] = checkTemplateText('{vars.helpUrl}', []);
    expect(problem?.message).toContain('no variable "helpUrl"');
  });
});

describe('listPlaceholders', () => {
  it.each([
    ['', []],
    [
      '{author.name}さん {{watch}} {vars.x}',
      [
        ['author.name', 0, 13],
        ['vars.x', 26, 8],
      ],
    ],
    ['{bogus} {author.handle', [['bogus', 0, 7]]],
  ])('%j', (text, expected) => {
    expect(listPlaceholders(text).map((p) => [p.name, p.offset, p.length])).toEqual(expected);
  });
});

describe('selectTemplates / pickTemplate', () => {
  const templates: Array<SelectableTemplate & { id: string }> = [
    { id: 'thanks-any', platform: '*', category: 'thanks' },
    { id: 'thanks-x', platform: 'x', category: 'thanks' },
    { id: 'thanks-campaign', platform: '*', category: 'thanks', watches: ['campaign'] },
    { id: 'apology-any', platform: '*', category: 'apology' },
    { id: 'apology-mastodon', platform: 'mastodon', category: 'apology' },
    { id: 'guidance-other', platform: '*', category: 'guidance', watches: ['other'] },
    { id: 'thanks-any-2', platform: '*', category: 'thanks' },
    { id: 'apology-campaign-x', platform: 'x', category: 'apology', watches: ['campaign'] },
    { id: 'custom-empty-watches', platform: '*', category: 'custom', watches: [] },
  ];

  it.each<[Platform, Category | undefined, string, string[]]>([
    ['x', 'thanks', 'brand', ['thanks-x']],
    ['mastodon', 'thanks', 'brand', ['thanks-any', 'thanks-any-2']],
    ['x', 'thanks', 'campaign', ['thanks-campaign', 'thanks-x']],
    ['mastodon', 'thanks', 'campaign', ['thanks-campaign', 'thanks-any', 'thanks-any-2']],
    ['mastodon', 'apology', 'brand', ['apology-mastodon']],
    ['x', 'apology', 'brand', ['apology-any']],
    ['x', 'apology', 'campaign', ['apology-campaign-x', 'apology-any']],
    ['x', 'guidance', 'brand', []],
    ['x', 'guidance', 'other', ['guidance-other']],
    ['x', undefined, 'brand', ['thanks-x', 'apology-any', 'custom-empty-watches']],
    [
      'x',
      undefined,
      'campaign',
      ['thanks-campaign', 'apology-campaign-x', 'thanks-x', 'apology-any', 'custom-empty-watches'],
    ],
  ])('%s %s on watch %s → %j', (platform, category, watchId, expected) => {
    expect(selectTemplates(templates, { platform, category, watchId }).map((t) => t.id)).toEqual(expected);
  });

  it.each<[Platform, Category, string, string | undefined]>([
    ['x', 'thanks', 'campaign', 'thanks-campaign'],
    ['x', 'thanks', 'brand', 'thanks-x'],
    ['mastodon', 'thanks', 'brand', 'thanks-any'],
    ['x', 'guidance', 'brand', undefined],
  ])('pickTemplate %s %s %s → %s', (platform, category, watchId, expected) => {
    expect(pickTemplate(templates, { platform, category, watchId })?.id).toBe(expected);
  });

  it('does not reorder or change the input', () => {
    const copy = structuredClone(templates);
    selectTemplates(templates, { platform: 'x', watchId: 'campaign' });
    expect(templates).toEqual(copy);
  });
});

describe("selectTemplates / pickTemplate: the post's language", () => {
  const templates: Array<SelectableTemplate & { id: string }> = [
    { id: 'thanks-ja', platform: '*', category: 'thanks', language: 'ja' },
    { id: 'thanks-x-ja', platform: 'x', category: 'thanks', language: 'ja' },
    { id: 'thanks-en', platform: '*', category: 'thanks', language: 'en' },
    { id: 'apology-any', platform: '*', category: 'apology' },
    { id: 'apology-en', platform: '*', category: 'apology', language: 'en' },
    { id: 'guidance-ja', platform: '*', category: 'guidance', language: 'ja' },
    { id: 'campaign-ja', platform: '*', category: 'custom', language: 'ja', watches: ['campaign'] },
    { id: 'campaign-en', platform: 'x', category: 'custom', language: 'en', watches: ['campaign'] },
  ];
  const pick = (platform: Platform, category: Category, language: string | null, watchId = 'brand') =>
    pickTemplate(templates, { platform, category, watchId, language })?.id;

  it.each<[Platform, Category, string | null, string | undefined]>([
    // An English post gets the English reply, also where a platform template exists in another language.
    ['x', 'thanks', 'en', 'thanks-en'],
    ['mastodon', 'thanks', 'en', 'thanks-en'],
    ['x', 'thanks', 'ja', 'thanks-x-ja'],
    ['mastodon', 'thanks', 'ja', 'thanks-ja'],
    // Language tags are compared by their language: "en-GB" and "EN" are English.
    ['x', 'thanks', 'en-GB', 'thanks-en'],
    ['x', 'thanks', 'EN', 'thanks-en'],
    // A template without a language comes before one in another language, after one in the post's.
    ['x', 'apology', 'ja', 'apology-any'],
    ['x', 'apology', 'en', 'apology-en'],
    // Nothing in the post's language: a template in another language is still proposed.
    ['x', 'guidance', 'en', 'guidance-ja'],
    // Unknown language ("und", none): configuration order, as before languages existed.
    ['x', 'thanks', null, 'thanks-x-ja'],
    ['x', 'thanks', 'und', 'thanks-x-ja'],
  ])('%s %s in %s → %s', (platform, category, language, expected) => {
    expect(pick(platform, category, language)).toBe(expected);
  });

  it('prefers the language over a watch restriction', () => {
    expect(pick('mastodon', 'custom', 'en', 'campaign')).toBe('campaign-ja');
    expect(pick('x', 'custom', 'en', 'campaign')).toBe('campaign-en');
    expect(pick('x', 'custom', 'ja', 'campaign')).toBe('campaign-ja');
  });

  it("lists every applicable template, those in the post's language first", () => {
    const ids = selectTemplates(templates, { platform: 'x', watchId: 'brand', language: 'en' }).map(
      (t) => t.id,
    );
    expect(ids).toEqual(['thanks-en', 'apology-en', 'apology-any', 'thanks-x-ja', 'guidance-ja']);
  });
});

describe('renderTemplate: handles that are not handles', () => {
  const mastodonPost = (handle: string, displayName = '') =>
    postSchema.parse({
      platform: 'mastodon',
      id: '1',
      url: 'https://mastodon.example/@alice/1',
      author: { id: 'a1', handle, displayName },
      text: 'ありがとう',
      createdAt: '2025-01-01T00:00:00Z',
    });

  it.each([
    ['victim1 @bystander@mastodon.social'],
    ['<script>alert(1)</script>'],
    ['alice@mastodon.social\n@everyone'],
  ])('never puts an invalid handle (%j) into a reply', (handle) => {
    expect(render('{author.handle}さん', mastodonPost(handle))).toBe('さん');
    // Nor through the display-name fallback.
    expect(render('{author.name}さん', mastodonPost(handle))).toBe('さん');
  });

  it('keeps a valid handle', () => {
    // (The at sign is kept from forming a mention, as for any outside text.)
    expect(render('{author.handle}', mastodonPost('alice@mastodon.social'))).toBe(
      `alice@${MENTION_BREAKER}mastodon.social`,
    );
    expect(render('{author.handle}', post({ handle: '@alice_b' }))).toBe('alice_b');
  });
});
