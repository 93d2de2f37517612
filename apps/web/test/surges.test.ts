import type { MatchRecord } from '@kikimimi/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';
import { matchIdsOf, setUpWorld, unescapeHtml, type World } from './inbox-fixtures.ts';

/** The console's surge pages: the list, a surge's page, and the decisions on the whole surge. */
let t: TestApp;
let w: World;
const SURGE = 'surge:11111111-2222-4333-8444-555555555555';
let members: MatchRecord[] = [];
let alone: MatchRecord;

beforeAll(async () => {
  t = await createTestApp();
  w = await setUpWorld(t);
  alone = await w.match('ブクログ 使い方を教えて');
  members = [await w.match('ブクログ ログインできない 1'), await w.match('ブクログ ログインできない 2')];
  const now = Date.now();
  await t.repos.surges.record(
    {
      id: SURGE,
      watchId: 'brand',
      status: 'open',
      detectedAt: now,
      firstAt: now - 120_000,
      lastAt: now,
      count: 2,
      intents: { trouble: 2 },
      platforms: { x: 2 },
      examples: [{ id: members[0]?.id ?? '', text: 'ブクログ ログインできない <b>1</b>' }],
      perMinute: [{ minute: Math.floor(now / 60_000) * 60_000, count: 2 }],
    },
    members.map((m) => m.id),
  );
});
afterAll(async () => {
  await t?.close();
});

const path = `/surges/${encodeURIComponent(SURGE)}`;

describe('surges in the inbox', () => {
  const badge = `<a class="badge" href="${path}">🌊 急増 2 件</a>`;
  const rowOf = (page: string, id: string) => {
    const start = page.indexOf(`<tr data-match-id="${id}">`);
    return start < 0 ? '' : page.slice(start, page.indexOf('</tr>', start));
  };

  it('marks the members of a surge with its badge, linking to the surge; the others without', async () => {
    const page = await (await t.request('/inbox', { as: 'viewer' })).text();
    for (const member of members) expect(rowOf(page, member.id)).toContain(badge);
    expect(rowOf(page, alone.id)).not.toBe('');
    expect(rowOf(page, alone.id)).not.toContain('🌊');
    const english = await (await t.request('/inbox?lang=en', { as: 'viewer' })).text();
    expect(rowOf(english, members[0]?.id ?? '')).toContain(`href="${path}">🌊 Surge of 2</a>`);
    // The match page too.
    const detail = await (await t.request(`/inbox/${members[1]?.id}`, { as: 'viewer' })).text();
    expect(detail).toContain(badge);
    expect(await (await t.request(`/inbox/${alone.id}`, { as: 'viewer' })).text()).not.toContain('🌊');
  });

  it('filters matches in a surge and outside surges (page, API, CSV)', async () => {
    const inSurge = await (await t.request('/inbox?surge=true', { as: 'viewer' })).text();
    expect(matchIdsOf(inSurge).sort()).toEqual(members.map((m) => m.id).sort());
    expect(inSurge).toContain('<option value="true" selected>急増の投稿</option>');
    const outside = await (await t.request('/inbox?surge=false', { as: 'viewer' })).text();
    expect(matchIdsOf(outside)).toEqual([alone.id]);
    const bad = await t.request('/inbox?surge=maybe', { as: 'viewer' });
    expect(bad.status).toBe(400);
    const api = (await (await t.request('/api/matches?surge=true', { as: 'viewer' })).json()) as {
      items: Array<{ id: string; surgeId: string | null }>;
    };
    expect(api.items.map((m) => m.surgeId)).toEqual([SURGE, SURGE]);
    const csv = await (await t.request('/inbox.csv?surge=true', { as: 'viewer' })).text();
    const [header, ...rows] = csv
      .replace(/^\uFEFF/u, '')
      .trim()
      .split('\r\n');
    expect(header?.split(',').at(-1)).toBe('surge_id');
    expect(rows.map((r) => r.split(',').at(-1))).toEqual([SURGE, SURGE]);
  });

  it('renders live rows with the badge', async () => {
    const editor = await t.login('editor');
    const controller = new AbortController();
    const response = await t.app.request('/inbox/events', {
      headers: { Cookie: editor.cookie },
      signal: controller.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const nextEvent = async (name: string) => {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const chunk = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (chunk.includes(`event: ${name}`)) return chunk.replace(/^[\s\S]*?data: /u, '');
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    };
    await nextEvent('ready');
    await t.deps.live?.publish('changed', [members[0]?.id ?? '', alone.id]);
    const { rows } = JSON.parse(await nextEvent('rows')) as { rows: Array<{ id: string; html: string }> };
    expect(rows.find((r) => r.id === members[0]?.id)?.html).toContain(badge);
    expect(rows.find((r) => r.id === alone.id)?.html).not.toContain('🌊');
    controller.abort();
    await reader.cancel().catch(() => {});
  });
});

describe('surges in the console', () => {
  it('lists surges and shows one with its members, examples escaped', async () => {
    const list = await (await t.request('/surges', { as: 'viewer' })).text();
    expect(list).toContain(encodeURIComponent(SURGE));
    const response = await t.request(path, { as: 'viewer' });
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain('&lt;b&gt;1&lt;/b&gt;');
    expect(body).toContain('ブクログ ログインできない 2');
    // A viewer sees no forms.
    expect(body).not.toContain(`${path}/dismiss`);
  });

  it('a viewer cannot act; an editor announces once, dismisses all, closes', async () => {
    expect((await t.request(`${path}/close`, { method: 'POST', as: 'viewer', form: {} })).status).toBe(403);
    const announce = () =>
      t.request(`${path}/announce`, {
        method: 'POST',
        as: 'editor',
        form: { text: 'ただいま障害が発生しています。' },
      });
    expect((await announce()).status).toBe(303);
    expect((await announce()).status).toBe(409);
    const announcements = await t.repos.surges.announcements(SURGE);
    expect(announcements.length).toBeGreaterThan(0);
    expect(new Set(announcements.map((a) => a.accountId)).size).toBe(announcements.length);
    expect(t.enqueued.filter((j) => j.queue === 'announce')).toHaveLength(announcements.length);

    expect((await t.request(`${path}/dismiss`, { method: 'POST', as: 'editor', form: {} })).status).toBe(303);
    const members = await t.repos.surges.members(SURGE);
    expect(members.map((m) => m.status)).toEqual(['dismissed', 'dismissed']);

    expect((await t.request(`${path}/close`, { method: 'POST', as: 'editor', form: {} })).status).toBe(303);
    const surge = await t.repos.surges.get(SURGE);
    expect(surge?.status).toBe('closed');
    expect(surge?.handling).toEqual(['announced', 'dismissed', 'closed']);
    expect(t.enqueued.some((j) => j.queue === 'surge' && j.data.closeSurgeId === SURGE)).toBe(true);
  });
});
