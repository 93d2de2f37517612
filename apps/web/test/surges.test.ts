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

describe('surges in the digest', () => {
  // After the decisions above: announced on both accounts (not posted yet: no worker here), both
  // members dismissed, closed by a reviewer.
  const period = () => {
    const now = Date.now();
    return `?from=${new Date(now - 86_400_000).toISOString()}&to=${new Date(now + 3_600_000).toISOString()}`;
  };

  it('lists the period’s surges with their size and how they were handled (page, ja and en)', async () => {
    const page = unescapeHtml(await (await t.request(`/digest${period()}`, { as: 'viewer' })).text());
    expect(page).toContain('この期間の急増 (1)');
    const table = page.slice(page.indexOf('id="surges-table"'), page.indexOf('id="voices"'));
    expect(table).toContain(`<tr data-surge-id="${SURGE}">`);
    expect(table).toContain(`<a href="${path}"`);
    expect(table).toContain('<strong data-size>2 件</strong>');
    expect(table).toContain('<span data-announced>告知: Mastodon（送信中）・X（送信中）</span>');
    expect(table).toContain('<span data-members>未対応 0 · 対応不要 2</span>');
    expect(table).toContain('終了（担当者が終了）');
    const english = unescapeHtml(
      await (await t.request(`/digest${period()}&lang=en`, { as: 'viewer' })).text(),
    );
    expect(english).toContain('Announced on Mastodon (sending), X (sending)');
    expect(english).toContain('<span data-members>0 waiting · 2 dismissed</span>');
    expect(english).toContain('closed by a reviewer');
    // A period without surges says so.
    const quiet = await (
      await t.request('/digest?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z', { as: 'viewer' })
    ).text();
    expect(quiet).toContain('id="surges-table-empty"');
  });

  it('exports them in the CSV between the figures and the voices, and answers them as JSON', async () => {
    const csv = await (await t.request(`/digest.csv${period()}`, { as: 'viewer' })).text();
    const lines = csv.split('\r\n');
    expect(lines).toContain('surges,1');
    expect(lines).toContain('surge_posts,2');
    const header = lines.indexOf(
      'surge_id,first_at,last_at,detected_at,size,watch,intents,platforms,announced,members,waiting,replied,dismissed,escalated,deleted,handling,status,closed_at,closed_by,example',
    );
    expect(header).toBeGreaterThan(0);
    expect(lines[header - 1]).toBe('');
    const row = (lines[header + 1] ?? '').split(',');
    expect(row.slice(0, 1)).toEqual([SURGE]);
    expect(row.slice(4, 17)).toEqual([
      '2',
      'brand',
      'trouble:2',
      'x:2',
      'mastodon:pending x:pending',
      '2',
      '0',
      '0',
      '2',
      '0',
      '0',
      'announced dismissed closed',
      'closed',
    ]);
    expect(row.at(-2)).toBe('reviewer');
    expect(lines[header + 2]).toBe('');
    expect(lines[header + 3]?.startsWith('tagged_at,department')).toBe(true);

    const json = (await (await t.request(`/api/digest${period()}`, { as: 'viewer' })).json()) as {
      surges: Array<{ id: string; href: string; count: number; handled: { members: { dismissed: number } } }>;
      moreSurges: boolean;
    };
    expect(json.moreSurges).toBe(false);
    expect(json.surges.map((s) => [s.id, s.href, s.count, s.handled.members.dismissed])).toEqual([
      [SURGE, path, 2, 2],
    ]);
  });
});
