import { readFile } from 'node:fs/promises';
import { loadConfig } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { englishIn } from './english.ts';
import { createTestApp, type TestApp } from './harness.ts';

/** /import-export: the configuration as the JSON `kikimimi dry-run` reads, imports that change all or nothing, history. */
let t: TestApp;
const EXAMPLE = new URL('../../../docs/examples/shiori-note.json', import.meta.url);

const versions = async () => (await t.repos.config.current()).version;

/** The problems listed on a page, as text (paths in <code> kept, tags dropped). */
function problemsOf(page: string): string[] {
  return [...page.matchAll(/<li><code>[^<]*<\/code>: ([\s\S]*?)<\/li>/gu)].map((m) =>
    (m[1] ?? '')
      .replace(/<[^>]+>/gu, '')
      .replace(/&quot;/gu, '"')
      .replace(/&#39;/gu, "'")
      .replace(/&amp;/gu, '&'),
  );
}

/** A multipart form with a file, as a browser uploads it. */
function upload(fields: Record<string, string>, file?: { name: string; content: string }): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  if (file) form.set('file', new File([file.content], file.name, { type: 'application/json' }));
  return form;
}

beforeAll(async () => {
  t = await createTestApp();
  // The example's escalation rules mention these roles: an import may only name bound ones.
  await t.repos.discord.set(
    { roles: { 'billing-team': '401', oncall: '402', 'pr-team': '403' } },
    { kind: 'system', id: 'test', name: 'test' },
  );
});
afterAll(async () => {
  await t?.close();
});

describe('/import-export: who may do what', () => {
  it('needs a signed-in user; any user exports, only admins import, with the CSRF token', async () => {
    expect((await t.request('/import-export')).status).toBe(303);
    expect((await t.request('/import-export/export')).status).toBe(303);
    expect((await t.request('/import-export/export', { as: 'viewer' })).status).toBe(200);
    const viewer = await (await t.request('/import-export', { as: 'viewer' })).text();
    expect(viewer).not.toContain('action="/import-export/import"');
    const json = JSON.stringify({ watches: [{ id: 'a', query: 'a' }] });
    expect((await t.request('/import-export/import', { as: 'editor', form: { json } })).status).toBe(403);
    expect(
      (await t.request('/import-export/import', { as: 'admin', form: { json }, csrf: false })).status,
    ).toBe(403);
    expect(await versions()).toBe(0);
  });
});

describe('/import-export: import', () => {
  it('imports a pasted configuration as one new version and tells the workers', async () => {
    const example = await readFile(EXAMPLE, 'utf8');
    const published = t.published;
    const res = await t.request('/import-export/import', { as: 'admin', form: { json: example } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/import-export?done=imported&v=1');
    const current = await t.repos.config.current();
    expect(current.version).toBe(1);
    const expected = loadConfig(JSON.parse(example));
    expect(expected.ok && current.config).toEqual(expected.ok && expected.config);
    // Templates keep the language they are written in (the English replies of the example).
    expect(current.config.templates.find((tpl) => tpl.id === 'thanks-en')?.language).toBe('en');
    expect(t.published).toBe(published + 1);
    const [entry] = await t.repos.audit.list({ limit: 1 });
    expect(entry).toMatchObject({ action: 'config.replace', actor: { kind: 'web' } });
  });

  it('imports an uploaded file', async () => {
    const session = await t.login('admin');
    const res = await t.app.request('/import-export/import', {
      method: 'POST',
      headers: { Cookie: session.cookie },
      body: upload(
        { _csrf: session.csrf },
        { name: 'config.json', content: JSON.stringify({ watches: [{ id: 'up', query: 'アップロード' }] }) },
      ),
    });
    expect(res.status).toBe(303);
    expect((await t.repos.config.current()).config.watches.map((w) => w.id)).toEqual(['up']);
  });

  it('lists every problem with its path and changes nothing', async () => {
    const before = await t.repos.config.current();
    const published = t.published;
    const bad = {
      watches: [
        { id: 'Bad Id', query: 'ok' },
        { id: 'q', query: '(unclosed' },
      ],
      templates: [{ id: 't', category: 'thanks', text: 'hi {vars.missing}', watches: ['nope'] }],
      escalation: [{ id: 'e', when: { minFollowers: 10, maxFollowers: 1 }, actions: {} }],
    };
    const res = await t.request('/import-export/import?lang=en', {
      as: 'admin',
      form: { json: JSON.stringify(bad) },
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    // Schema, query, placeholder and reference problems, all in one pass.
    for (const path of [
      'watches[0].id',
      'watches[1].query',
      'templates[0].text',
      'templates[0].watches[0]',
      'escalation[0].when.minFollowers',
    ]) {
      expect(body).toContain(`<code>${path}</code>`);
    }
    expect(body).toMatch(/5 problem\(s\) found\. Nothing was saved\./u);
    expect(body).toMatch(/watches\[1\]\.query<\/code>: [^<]*<span class="muted">\(offset 0\)/u);
    expect(await t.repos.config.current()).toEqual(before);
    expect(t.published).toBe(published);
  });

  it('says every problem in Japanese in the Japanese console', async () => {
    const bad = {
      watches: [
        { id: 'Bad Id', query: 'ok' },
        { id: 'q', query: 'from: (unclosed' },
        { id: 'w', query: 'a', platforms: ['myspace'] },
      ],
      templates: [
        { id: 't', category: 'thanks', text: 'hi {author.nmae}', watches: ['nope'], language: 'English' },
        { id: 't2', platform: 'threads', category: 'hug', text: '' },
      ],
      escalation: [{ id: 'e', when: { query: 'OR', minFollowers: -1 }, actions: { priority: 'now' } }],
      suppression: { maxAgeHours: -1, dailyReplyCap: { x: 1.5 } },
      variables: { 'bad name': 1 },
      version: 2,
      platforms: { mastodon: { instance: 'not a domain' } },
    };
    const res = await t.request('/import-export/import?lang=ja', {
      as: 'admin',
      form: { json: JSON.stringify(bad) },
    });
    expect(res.status).toBe(422);
    const problems = problemsOf(await res.text());
    // Every problem at once, those inside items with a bad field too (the placeholder, the query).
    expect(problems).toHaveLength(17);
    expect(problems.join('\n')).toMatch(
      /不明なプレースホルダーです「\{author\.nmae\}」。\{author\.name\} のことですか？/u,
    );
    expect(problems.join('\n')).toMatch(/OR の前後に語が必要です「OR」/u);
    for (const problem of problems) expect(englishIn(problem), problem).toEqual([]);

    for (const json of ['{"watches": [,]}', '{"watches": [', '{"a": "b\u0001"}', '{a: 1}', 'nope']) {
      const notJson = await t.request('/import-export/import?lang=ja', { as: 'admin', form: { json } });
      const [problem = ''] = problemsOf(await notJson.text());
      expect(problem).toMatch(/JSON として読めません/u);
      expect(englishIn(problem), problem).toEqual([]);
    }
  });

  it('says what is wrong with text that is not JSON, or no text at all', async () => {
    const before = await versions();
    const notJson = await t.request('/import-export/import?lang=en', {
      as: 'admin',
      form: { json: '{"watches": [,]}' },
    });
    expect(notJson.status).toBe(422);
    const body = await notJson.text();
    expect(body).toMatch(/Not valid JSON/u);
    expect(body).toContain('{&quot;watches&quot;: [,]}</textarea>'); // kept to fix
    const empty = await t.request('/import-export/import?lang=en', { as: 'admin', form: { json: '  ' } });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain('Choose a file or paste JSON.');
    expect(await versions()).toBe(before);
  });
});

describe('/import-export: export and history', () => {
  it('downloads the configuration that kikimimi dry-run reads, and takes it back unchanged', async () => {
    const res = await t.request('/import-export/export', { as: 'viewer' });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/u);
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="kikimimi-config-v${await versions()}.json"`,
    );
    const text = await res.text();
    const loaded = loadConfig(JSON.parse(text));
    expect(loaded.ok).toBe(true);
    expect(loaded.ok && loaded.config).toEqual((await t.repos.config.current()).config);
    const back = await t.request('/import-export/import', { as: 'admin', form: { json: text } });
    expect(back.status).toBe(303);
  });

  it('shows the history: versions, who, when; and downloads an old version', async () => {
    const admin = await t.login('admin');
    await t.request('/import-export/import', {
      as: admin,
      form: { json: JSON.stringify({ watches: [{ id: 'h', query: 'h' }] }) },
    });
    const body = await (await t.request('/import-export?lang=en', { as: 'viewer' })).text();
    const current = await versions();
    expect(body).toContain(`<td>${current} <span class="badge on">current</span></td>`);
    expect(body).toContain(`${admin.user.username} <span class="muted">(web)</span>`);
    expect(body).toMatch(/1 watches · 0 templates · 0 escalation rules/u);
    const old = await t.request('/import-export/versions/1', { as: 'viewer' });
    expect(old.headers.get('content-disposition')).toContain('kikimimi-config-v1.json');
    expect(JSON.parse(await old.text()).watches[0].id).toBe('brand');
    expect((await t.request('/import-export/versions/999', { as: 'viewer' })).status).toBe(404);
  });
});
