import { measureReply } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

let t: TestApp;
const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;

function fieldError(body: string, path: string): string | undefined {
  const match = new RegExp(`data-field="${path.replace(/[[\]]/gu, '\\$&')}">([^<]*)<`, 'u').exec(body);
  return match?.[1]
    ?.replace(/&quot;/gu, '"')
    .replace(/&#39;/gu, "'")
    .replace(/&amp;/gu, '&');
}
const versions = async () => (await t.repos.config.current()).version;

beforeAll(async () => {
  t = await createTestApp();
  await t.repos.config.replace(
    {
      variables: { helpUrl: 'https://help.example.com/login' },
      watches: [{ id: 'brand', name: 'ブクログ', query: 'ブクログ' }],
      templates: [
        { id: 'thanks-all', category: 'thanks', text: '{author.name}さん、ありがとうございます！' },
        {
          id: 'sorry-x',
          platform: 'x',
          category: 'apology',
          text: 'ご不便をおかけしております。{vars.helpUrl}',
        },
        {
          id: 'guide-m',
          platform: 'mastodon',
          category: 'guidance',
          text: 'こちらをご覧ください {vars.helpUrl}',
        },
      ],
    },
    SYSTEM,
  );
});
afterAll(async () => {
  await t?.close();
});

describe('/templates: who may do what', () => {
  it('sends a signed-out visitor to the login; a viewer reads but cannot change', async () => {
    expect((await t.request('/templates')).status).toBe(303);
    const list = await t.request('/templates', { as: 'viewer' });
    expect(list.status).toBe(200);
    expect(await list.text()).not.toContain('href="/templates/new');
    const before = await versions();
    expect(
      (await t.request('/templates', { as: 'viewer', form: { id: 'v', category: 'thanks', text: 'x' } }))
        .status,
    ).toBe(403);
    expect(
      (await t.request('/templates/variables', { as: 'viewer', form: { varName: 'a', varValue: 'b' } }))
        .status,
    ).toBe(403);
    expect((await t.request('/templates/thanks-all/delete', { as: 'viewer', form: {} })).status).toBe(403);
    expect(await versions()).toBe(before);
  });

  it('refuses changes without the CSRF token', async () => {
    const before = await versions();
    const form = { id: 'c', category: 'thanks', text: 'ありがとう' };
    expect((await t.request('/templates', { as: 'editor', form, csrf: false })).status).toBe(403);
    expect(
      (
        await t.request('/templates/variables', {
          as: 'editor',
          form: { varName: 'a', varValue: 'b' },
          csrf: 'no',
        })
      ).status,
    ).toBe(403);
    expect(await versions()).toBe(before);
  });
});

describe('/templates: list', () => {
  it('lists templates per category with the length each platform counts', async () => {
    const body = await (await t.request('/templates?lang=en', { as: 'viewer' })).text();
    for (const category of ['thanks', 'apology', 'guidance', 'custom'])
      expect(body).toContain(`id="category-${category}"`);
    expect(body).toContain('お礼 thanks');
    const rendered = 'ご不便をおかけしております。https://help.example.com/login';
    expect(body).toContain(`X: ${measureReply(rendered, 'x').length} / 280`);
  });

  it('filters by platform (a platform sees its own and the "*" templates) and category', async () => {
    const onX = await (await t.request('/templates?platform=x', { as: 'viewer' })).text();
    expect(onX).toContain('thanks-all');
    expect(onX).toContain('sorry-x');
    expect(onX).not.toContain('guide-m');
    const apology = await (await t.request('/templates?category=apology', { as: 'viewer' })).text();
    expect(apology).toContain('sorry-x');
    expect(apology).not.toContain('thanks-all');
    expect(apology).not.toContain('id="category-thanks"');
  });
});

describe('/templates: form', () => {
  it('shows the length counted the platform’s way and a preview with a sample post', async () => {
    const body = await (await t.request('/templates/guide-m?lang=en', { as: 'viewer' })).text();
    // Mastodon counts the author's mention the connector prepends, and a URL as 23.
    const sent = '@hanako@mstdn.jp こちらをご覧ください https://help.example.com/login';
    expect(body).toContain(`Mastodon: ${measureReply(sent, 'mastodon').length} / 500`);
    expect(body).toContain('こちらをご覧ください https://help.example.com/login');
    expect(body).toContain('data-template-preview="template-counter"');
    expect(body).toMatch(/<script nonce="[^"]+">[^<]*\/api\/templates\/preview/u);
  });

  it('creates a template', async () => {
    const res = await t.request('/templates', {
      as: 'editor',
      form: {
        originalId: '',
        id: 'custom-1',
        name: 'カスタム',
        platform: 'x',
        category: 'custom',
        text: '{author.name}さん、{watch}をご利用いただき',
        watches: ['brand'],
      },
    });
    expect(res.status).toBe(303);
    const saved = (await t.repos.config.current()).config.templates.find((x) => x.id === 'custom-1');
    expect(saved).toEqual({
      id: 'custom-1',
      name: 'カスタム',
      platform: 'x',
      category: 'custom',
      text: '{author.name}さん、{watch}をご利用いただき',
      watches: ['brand'],
    });
    const [entry] = await t.repos.audit.list({ limit: 1 });
    expect(entry?.action).toBe('config.template.upsert');
    expect(entry?.actor.kind).toBe('web');
  });

  it('saves the language a template is written in, shows it, and refuses a bad one', async () => {
    const form = await (await t.request('/templates/new?lang=en', { as: 'editor' })).text();
    expect(form).toMatch(/<select[^>]*name="language"/u);
    expect(form).toContain('<option value="en">English</option>');
    const res = await t.request('/templates', {
      as: 'editor',
      form: {
        originalId: '',
        id: 'thanks-en',
        platform: '*',
        category: 'thanks',
        language: 'en',
        text: 'Thank you, {author.name}!',
      },
    });
    expect(res.status).toBe(303);
    const saved = (await t.repos.config.current()).config.templates.find((x) => x.id === 'thanks-en');
    expect(saved?.language).toBe('en');
    const edit = await (await t.request('/templates/thanks-en?lang=en', { as: 'editor' })).text();
    expect(edit).toContain('<option value="en" selected>English</option>');
    expect(await (await t.request('/templates', { as: 'editor' })).text()).toMatch(/thanks-en[\s\S]*?英語/u);
    // Without a language the field is left out (the template is for any language).
    await t.request('/templates', {
      as: 'editor',
      form: {
        originalId: 'thanks-en',
        id: 'thanks-en',
        platform: '*',
        category: 'thanks',
        language: '',
        text: 'Thanks!',
      },
    });
    const plain = (await t.repos.config.current()).config.templates.find((x) => x.id === 'thanks-en');
    expect(plain).not.toHaveProperty('language');
    const bad = await t.request('/templates', {
      as: 'editor',
      form: { id: 'thanks-en', category: 'thanks', language: 'English', text: 'Thanks!' },
    });
    expect(bad.status).toBe(422);
    expect(fieldError(await bad.text(), 'language')).toMatch(/言語コード|language code/u);
    await t.request('/templates/thanks-en/delete', { as: 'editor', form: {} });
  });

  it('shows placeholder problems next to the text with their position, saving nothing', async () => {
    const before = await versions();
    const res = await t.request('/templates?lang=en', {
      as: 'editor',
      form: {
        originalId: '',
        id: 'bad',
        platform: '*',
        category: 'thanks',
        text: 'こんにちは {author.nmae} さん @{author.handle}',
      },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    const error = fieldError(body, 'text') ?? '';
    expect(error).toMatch(/did you mean \{author\.name\}\? \(line 1, column 7\)/u);
    expect(error).toMatch(/remove the at sign/u);
    expect(body).toContain('<mark>{author.nmae}</mark>');
    expect(await versions()).toBe(before);

    const ja = await (
      await t.request('/templates', {
        as: 'editor',
        headers: { 'Accept-Language': 'ja' },
        form: { id: 'bad', category: 'thanks', text: '{vars.nope' },
      })
    ).text();
    expect(fieldError(ja, 'text')).toMatch(/「\{」が閉じていません.*1 行目 1 文字目/u);
  });

  it('checks the other fields with the schema', async () => {
    const body = await (
      await t.request('/templates?lang=en', {
        as: 'editor',
        form: { originalId: '', id: 'Nope!', platform: 'threads', category: 'hug', text: '' },
      })
    ).text();
    expect(fieldError(body, 'id')).toBeTruthy();
    expect(fieldError(body, 'platform')).toBeTruthy();
    expect(fieldError(body, 'category')).toBeTruthy();
    expect(fieldError(body, 'text')).toBeTruthy();
    const unknownWatch = await (
      await t.request('/templates?lang=en', {
        as: 'editor',
        form: { id: 'w', category: 'thanks', text: 'ok', watches: ['ghost'] },
      })
    ).text();
    expect(fieldError(unknownWatch, 'watches')).toBe('There is no watch with the id "ghost".');
  });

  it('deletes a template after asking', async () => {
    expect((await t.request('/templates/custom-1/delete', { as: 'editor' })).status).toBe(200);
    const res = await t.request('/templates/custom-1/delete', { as: 'editor', form: {} });
    expect(res.status).toBe(303);
    expect((await t.repos.config.current()).config.templates.some((x) => x.id === 'custom-1')).toBe(false);
  });
});

describe('/templates: variables', () => {
  it('saves variables and refuses to drop one a template uses', async () => {
    const res = await t.request('/templates/variables', {
      as: 'editor',
      form: {
        varName: ['helpUrl', 'brand', ''],
        varValue: ['https://help.example.com/login', 'ブクログ', ''],
      },
    });
    expect(res.status).toBe(303);
    expect((await t.repos.config.current()).config.variables).toEqual({
      helpUrl: 'https://help.example.com/login',
      brand: 'ブクログ',
    });

    const before = await versions();
    const refused = await t.request('/templates/variables?lang=en', {
      as: 'editor',
      form: { varName: ['brand'], varValue: ['ブクログ'] },
    });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain('templates[1].text');
    expect(await versions()).toBe(before);
  });

  it('shows a bad variable name next to its row', async () => {
    const body = await (
      await t.request('/templates/variables?lang=en', {
        as: 'editor',
        form: {
          varName: ['helpUrl', '1bad', 'brand'],
          varValue: ['https://help.example.com/login', 'x', 'ブクログ'],
        },
      })
    ).text();
    expect(fieldError(body, 'variables[1].name')).toBeTruthy();
    expect(body).toContain('value="1bad"');
  });
});
