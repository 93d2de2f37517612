import { readFile } from 'node:fs/promises';
import { loadConfig } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

/** /import-export: the configuration as the JSON `kikimimi dry-run` reads, imports that change all or nothing, history. */
let t: TestApp;
const EXAMPLE = new URL('../../../docs/examples/shiori-note.json', import.meta.url);

const versions = async () => (await t.repos.config.current()).version;

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
    // The schema stops at the bad id first; fix it and every remaining problem is listed at once.
    expect(body).toContain('<code>watches[0].id</code>');
    const second = await t.request('/import-export/import?lang=en', {
      as: 'admin',
      form: { json: JSON.stringify({ ...bad, watches: [{ id: 'ok', query: 'ok' }, bad.watches[1]] }) },
    });
    const secondBody = await second.text();
    for (const path of [
      'watches[1].query',
      'templates[0].text',
      'templates[0].watches[0]',
      'escalation[0].when.minFollowers',
    ]) {
      expect(secondBody).toContain(`<code>${path}</code>`);
    }
    expect(secondBody).toMatch(/4 problem\(s\) found\. Nothing was saved\./u);
    expect(secondBody).toMatch(/watches\[1\]\.query<\/code>: [^<]*<span class="muted">\(offset 0\)/u);
    expect(await t.repos.config.current()).toEqual(before);
    expect(t.published).toBe(published);
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
