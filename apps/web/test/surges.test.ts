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

describe('replying to a surge’s members and escalating it in the console', () => {
  const OTHER = 'surge:22222222-3333-4444-8555-666666666666';
  const other = `/surges/${encodeURIComponent(OTHER)}`;
  let crowd: Awaited<ReturnType<World['match']>>[] = [];

  beforeAll(async () => {
    crowd = [
      await w.match('ブクログ 落ちてる 1', {
        author: { id: 'hanako', handle: 'hanako', displayName: '花子', followers: 1 },
      }),
      await w.match('ブクログ 落ちてる 2', {
        author: { id: 'hanako', handle: 'hanako', displayName: '花子', followers: 1 },
      }),
      await w.match('ブクログ 落ちてる 3'),
      await w.match('ブクログ 落ちてる 4', { platform: 'mastodon' }),
    ];
    const now = Date.now();
    await t.repos.surges.record(
      {
        id: OTHER,
        watchId: 'brand',
        status: 'open',
        detectedAt: now,
        firstAt: now - 60_000,
        lastAt: now,
        count: crowd.length,
        intents: { trouble: crowd.length },
        platforms: { x: 3, mastodon: 1 },
        examples: [],
        perMinute: [],
      },
      crowd.map((m) => m.id),
    );
  });

  it('offers the guidance template, everyone waiting and a box per member, with the length measured', async () => {
    const body = await (await t.request(other, { as: 'editor' })).text();
    expect(body).toContain(`action="${other}/reply"`);
    expect(body).toContain('こちらをご覧ください: {vars.helpUrl}');
    expect(body).toContain('返信待ちのすべて（4 件）');
    expect(body.match(/name="matchIds"/gu)).toHaveLength(4);
    expect(body).toMatch(/X: 最長 \d+ \/ 280/u);
    const viewer = await (await t.request(other, { as: 'viewer' })).text();
    expect(viewer).not.toContain(`${other}/reply`);
    expect(viewer).not.toContain('name="matchIds"');
    // The live counter asks the server, which measures per member as the reply will check it.
    const measured = await t.request(`/api/surges/${encodeURIComponent(OTHER)}/measure`, {
      as: 'editor',
      json: { text: 'あ'.repeat(300) },
      headers: { 'Accept-Language': 'en' },
    });
    expect(measured.status).toBe(200);
    expect(await measured.json()).toEqual({
      text: 'Mastodon: longest 307 / 500 · X: longest 600 / 280 (3 too long: left out)',
      ok: false,
    });
  });

  it('refuses a form without members, or with a placeholder it does not know, in the reader’s language', async () => {
    const none = await t.request(`${other}/reply`, {
      method: 'POST',
      as: 'editor',
      form: { text: 'お知らせです', templateId: '' },
    });
    expect(none.status).toBe(422);
    const ja = await none.text();
    expect(ja).toContain('返信するメンバーを選ぶか、「返信待ちのすべて」を選んでください。');
    // What the reviewer wrote is kept.
    expect(ja).toContain('>お知らせです</textarea>');
    const en = await t.request(`${other}/reply?lang=en`, {
      method: 'POST',
      as: 'editor',
      form: { text: '{author.nam}, see here', all: 'on' },
      headers: { 'Accept-Language': 'en' },
    });
    expect(en.status).toBe(422);
    expect(await en.text()).toContain('The placeholder {author.nam} cannot be used');
    expect(t.enqueued.filter((j) => j.queue === 'reply')).toHaveLength(0);
    expect(
      (await t.request(`${other}/reply`, { method: 'POST', as: 'viewer', form: { all: 'on' } })).status,
    ).toBe(403);
  });

  it('queues one reply per person, shows the queue with the reasons, and a second press changes nothing', async () => {
    const chosen = [crowd[0]?.id ?? '', crowd[1]?.id ?? '', crowd[2]?.id ?? ''];
    const response = await t.request(`${other}/reply`, {
      method: 'POST',
      as: 'editor',
      form: { text: '{author.name}さん、ただいま復旧作業中です。', templateId: 'guide', matchIds: chosen },
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`${other}?done=reply&queued=2&skipped=1`);
    expect((await t.repos.replies.forMatch(crowd[0]?.id ?? ''))?.text).toBe(
      '花子さん、ただいま復旧作業中です。',
    );
    expect(await t.repos.replies.forMatch(crowd[1]?.id ?? '')).toBeNull();
    expect(t.enqueued.filter((j) => j.queue === 'reply').map((j) => j.data.matchId)).toEqual([
      crowd[0]?.id,
      crowd[2]?.id,
    ]);
    const body = await (await t.request(response.headers.get('location') ?? '', { as: 'viewer' })).text();
    expect(body).toContain('2 件の返信を送信待ちにしました。1 件は見送りました');
    expect(body).toContain('見送り: 同じ人の別の投稿に返信します（1 人に 1 回）。');
    expect(body).toContain('送信待ち・送信予定');
    expect(body).toContain('返信待ち 1 · 送信待ち 2 · 送信済み 0 · 見送り 1 · 失敗 0');
    const again = await t.request(`${other}/reply`, {
      method: 'POST',
      as: 'editor',
      form: { text: 'もう一度', matchIds: [crowd[0]?.id ?? ''] },
    });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('返信を待っている人はいません');
    expect(t.enqueued.filter((j) => j.queue === 'reply')).toHaveLength(2);
  });

  it('escalates the surge once per target: a second press is refused and pings nobody', async () => {
    const first = await t.request(`${other}/escalate`, {
      method: 'POST',
      as: 'editor',
      form: { target: 'billing' },
    });
    expect(first.status).toBe(303);
    const second = await t.request(`${other}/escalate`, {
      method: 'POST',
      as: 'editor',
      form: { target: 'billing' },
    });
    expect(second.status).toBe(409);
    expect(await second.text()).toContain('billing へはすでにエスカレーション済みです。');
    const unknown = await t.request(`${other}/escalate?lang=en`, {
      method: 'POST',
      as: 'editor',
      form: { target: 'legal' },
    });
    expect(unknown.status).toBe(422);
    expect(await unknown.text()).toContain('There is no such escalation target (billing).');
    expect(t.enqueued.filter((j) => j.queue === 'surgeEscalate')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ surgeId: OTHER, target: 'billing' }) }),
    ]);
    const body = await (await t.request(other, { as: 'viewer' })).text();
    expect(body).toMatch(/<li>billing（[^）]+）/u);
    expect((await t.repos.surges.get(OTHER))?.handling).toEqual(['replied', 'escalated']);
  });
});
