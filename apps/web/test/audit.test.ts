import type { AuditEntry } from '@kikimimi/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionFilter } from '../src/routes/inbox/audit.ts';
import { createTestApp, type TestApp } from './harness.ts';
import { errorAt, unescapeHtml } from './inbox-fixtures.ts';

let t: TestApp;
const actor = { kind: 'web' as const, id: 'u1', name: '<b>aiko</b>' };
const MATCH_ID = '4b7c1f0e-2a8d-4c55-9f1e-0d9c2b7a6e31';
let all: AuditEntry[] = [];

beforeAll(async () => {
  t = await createTestApp();
  for (let i = 0; i < 56; i++) await t.repos.audit.record(actor, 'config.replace', null, { version: i });
  await t.repos.audit.record(actor, 'account.create', 'acc-1', {
    label: 'x-main',
    credentials: { bearerToken: 'AAAA-secret' },
    password: 'hunter2',
    nested: [{ apiKey: 'k-123', note: '<script>alert(1)</script>' }],
  });
  await t.repos.audit.record({ kind: 'discord', id: '42', name: 'reviewer' }, 'match.escalate', MATCH_ID, {
    target: 'billing',
  });
  await t.repos.audit.record(actor, 'match.reply', MATCH_ID, { text: 'ありがとう' });
  await t.repos.audit.record(actor, 'matches.export', null, {});
  // Signing the viewer in is audited too (user.create): do it before reading the log.
  await t.request('/audit', { as: 'viewer' });
  all = await t.repos.audit.list({ limit: 1000 });
});

afterAll(async () => {
  await t?.close();
});

const rowsOf = (page: string) => [...page.matchAll(/<tr data-audit="(\d+)">/gu)].map((r) => r[1] as string);

describe('actionFilter', () => {
  it.each([
    ['', undefined],
    ['match', 'match.*'],
    ['match.', 'match.*'],
    ['match.*', 'match.*'],
    ['Config.Replace', 'config.replace'],
    ['config.replace', 'config.replace'],
    ['match*', null],
    ['a b', null],
    ["'; drop", null],
  ])('%j → %j', (input, expected) => {
    expect(actionFilter(input)).toBe(expected);
  });
});

describe('GET /audit', () => {
  it('lists the newest 50 entries with actor, action, target and detail, escaped and without secrets', async () => {
    const res = await t.request('/audit', { as: 'viewer' });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(rowsOf(page)).toEqual(all.slice(0, 50).map((e) => e.id));
    expect(page).toContain('&lt;b&gt;aiko&lt;/b&gt;');
    expect(page).not.toContain('<b>aiko</b>');
    expect(page).toContain('<code>account.create</code>');
    expect(page).toContain(`<a href="/inbox/${MATCH_ID}">`);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    for (const secret of ['AAAA-secret', 'hunter2', 'k-123']) expect(page).not.toContain(secret);
    expect(page).toContain('[redacted]');
    expect(page).toContain('x-main');
  });

  it('filters by action prefix or exact action', async () => {
    const prefix = await (await t.request('/audit?action=match', { as: 'viewer' })).text();
    expect(rowsOf(prefix)).toEqual(all.filter((e) => e.action.startsWith('match.')).map((e) => e.id));
    expect(prefix).not.toContain('matches.export');
    const exact = await (await t.request('/audit?action=account.create', { as: 'viewer' })).text();
    expect(rowsOf(exact)).toEqual(all.filter((e) => e.action === 'account.create').map((e) => e.id));
  });

  it('shows a filter it cannot use next to the field', async () => {
    const res = await t.request('/audit?action=match*', { as: 'viewer' });
    expect(res.status).toBe(400);
    expect(errorAt(await res.text(), 'action')).toBeTruthy();
  });

  it('pages with keyset links, keeping the filter', async () => {
    const seen: string[] = [];
    let path: string | null = '/audit?action=config';
    for (let guard = 0; path !== null && guard < 5; guard++) {
      const page: string = await (await t.request(path, { as: 'viewer' })).text();
      seen.push(...rowsOf(page));
      const next: string | undefined = /<a href="([^"]+)" rel="next">/u.exec(page)?.[1];
      path = next === undefined ? null : unescapeHtml(next);
      if (path) expect(path).toContain('action=config');
    }
    expect(seen).toEqual(all.filter((e) => e.action.startsWith('config.')).map((e) => e.id));
    expect(seen).toHaveLength(56);
  });

  it('sends signed-out visitors to the login', async () => {
    expect((await t.request('/audit')).status).toBe(303);
  });
});

describe('GET /api/audit', () => {
  it('pages with a cursor, redacted', async () => {
    const token = await t.apiToken('viewer');
    const headers = { Authorization: `Bearer ${token}` };
    const seen: string[] = [];
    let cursor: string | null = null;
    let text = '';
    for (let guard = 0; guard < 10; guard++) {
      const res = await t.request(`/api/audit?limit=25${cursor ? `&cursor=${cursor}` : ''}`, { headers });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Array<{ id: string }>; nextCursor: string | null };
      text += JSON.stringify(body);
      seen.push(...body.items.map((i) => i.id));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    // Everything up to the API token's own creation (recorded after `all` was read) is there, once.
    expect(seen.slice(-all.length)).toEqual(all.map((e) => e.id));
    expect(new Set(seen).size).toBe(seen.length);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('AAAA-secret');
  });

  it('filters by action and refuses bad parameters', async () => {
    const body = (await (await t.request('/api/audit?action=match.*', { as: 'viewer' })).json()) as {
      items: Array<{ action: string; actor: { kind: string } }>;
    };
    expect(body.items.map((i) => i.action).sort()).toEqual(['match.escalate', 'match.reply']);
    const bad = await t.request('/api/audit?action=%%&limit=9999&cursor=zz', { as: 'viewer' });
    expect(bad.status).toBe(400);
    expect(
      ((await bad.json()) as { problems: Array<{ path: string }> }).problems.map((p) => p.path).sort(),
    ).toEqual(['action', 'cursor', 'limit']);
    expect((await t.request('/api/audit')).status).toBe(401);
  });
});
