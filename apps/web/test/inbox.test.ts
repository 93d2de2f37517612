import type { MatchRecord } from '@kikimimi/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';
import {
  DISCORD_REVIEWER,
  errorAt,
  makePost,
  matchIdsOf,
  setUpWorld,
  unescapeHtml,
  type World,
} from './inbox-fixtures.ts';

let t: TestApp;
let w: World;
const m: Record<string, MatchRecord> = {};
/** Every match of this file, newest first as the inbox lists them. */
let all: MatchRecord[] = [];

const T0 = new Date('2026-11-24T00:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

beforeAll(async () => {
  t = await createTestApp();
  w = await setUpWorld(t);
  // 55 ordinary matches in one ingest page (one created_at: ties broken by id), then the special ones.
  const bulk = await w.store(
    Array.from({ length: 55 }, (_, i) => makePost(`ブクログ #${i} 今日も読書`)),
    { at: at(0) },
  );
  m.praise = await w.match('ブクログ最高、ありがとう！', {}, at(1));
  m.trouble = await w.match('ブクログのアプリにログインできない', { platform: 'mastodon' }, at(2));
  m.billing = await w.match('ブクログで課金できない', {}, at(3));
  m.own = await w.match(
    'ブクログ更新しました',
    {
      author: { id: 'own', handle: 'booklog_official', displayName: 'ブクログ公式', followers: 5000 },
    },
    at(4),
  );
  m.xss = await w.match(
    'ブクログ <script>alert("x")</script> & <b>bold</b>',
    {
      author: { id: 'evil', handle: 'evil', displayName: '<img src=x onerror=alert(1)>', followers: 1 },
      url: 'https://x.com/evil/status/1',
    },
    at(5),
  );
  m.formula = await w.match(
    '=HYPERLINK("http://evil.example","ブクログ"), "quoted"\n2行目',
    {
      author: { id: 'f', handle: 'formula', displayName: '@SUM(A1)', followers: 2 },
    },
    at(6),
  );
  all = await t.repos.matches.list({}, { limit: 500 });
  expect(all).toHaveLength(55 + 6);
  expect(bulk).toHaveLength(55);
});

afterAll(async () => {
  await t?.close();
});

describe('GET /inbox', () => {
  it('sends a signed-out visitor to the login, and answers 401 on the API', async () => {
    const page = await t.request('/inbox');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/login\?next=%2Finbox/u);
    expect((await t.request('/api/matches')).status).toBe(401);
    for (const path of ['/inbox.csv', `/inbox/${m.praise?.id}`]) {
      const res = await t.request(path);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/login/u);
    }
  });

  it('lists the newest 50 matches first for a viewer, with author, text, link, watches, intent and badges', async () => {
    const res = await t.request('/inbox', { as: 'viewer' });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(matchIdsOf(page)).toEqual(all.slice(0, 50).map((x) => x.id));
    const praise = m.praise as MatchRecord;
    expect(page).toContain(`@${praise.post.author.handle}`);
    expect(page).toContain(praise.post.author.displayName);
    expect(page).toContain(`${praise.post.author.followers}`);
    expect(page).toContain(praise.post.url);
    expect(page).toContain('ブクログ最高、ありがとう！');
    expect(page).toContain('称賛'); // intent praise in Japanese
    // The learned intent model's verdict next to the signals (decisions carry it since issue 13 round 6).
    const model = praise.decision.model;
    expect(model).toBeDefined();
    expect(page).toContain(`学習モデル: 称賛 ${Math.round((model?.probability ?? 0) * 100)}%`);
    expect(page).toContain('自社アカウント'); // suppression reason of the own-account match
    expect(page).toContain('緊急'); // the billing match's priority
    expect(page).toContain('<time datetime="');
    // Watches by name (the id on hover), and a watch without a name by its id.
    expect(page).toContain('<td><span title="brand">ブクログ</span></td>');
    expect(page).toMatch(/<td><span title="brand">ブクログ<\/span>, app<\/td>|<td>app<\/td>/u);
    expect(page).toMatch(
      /<select id="f-watch" name="watch"><option value="">すべて<\/option><option value="brand">ブクログ \(brand\)<\/option><option value="app">app<\/option><\/select>/u,
    );
  });

  it('keeps a filter on a watch that has since been removed, and says so', async () => {
    const page = await (await t.request('/inbox?watch=retired', { as: 'viewer' })).text();
    expect(page).toContain('<option value="retired" selected>retired（削除済み）</option>');
    expect(matchIdsOf(page)).toEqual([]);
  });

  it('escapes everything that comes from a post', async () => {
    const page = await (await t.request('/inbox', { as: 'viewer' })).text();
    expect(page).not.toContain('<script>alert("x")</script>');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page).not.toContain('<img src=x onerror');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it.each([
    ['status=suppressed', (x: MatchRecord) => x.status === 'suppressed'],
    ['platform=mastodon', (x: MatchRecord) => x.platform === 'mastodon'],
    ['intent=trouble', (x: MatchRecord) => x.decision.intent === 'trouble'],
    ['watch=app', (x: MatchRecord) => x.decision.watches.includes('app')],
    ['escalated=true', (x: MatchRecord) => x.escalated],
    ['suppressed=false&platform=x', (x: MatchRecord) => !x.suppressed && x.platform === 'x'],
    [
      'status=new,suppressed&escalated=false',
      (x: MatchRecord) => ['new', 'suppressed'].includes(x.status) && !x.escalated,
    ],
  ])('filters with %s (GET form)', async (query, keep) => {
    const expected = all
      .filter(keep)
      .slice(0, 50)
      .map((x) => x.id);
    expect(expected.length).toBeGreaterThan(0);
    const page = await (await t.request(`/inbox?${query}`, { as: 'viewer' })).text();
    expect(matchIdsOf(page)).toEqual(expected);
    // The form shows the filter in effect.
    const [field, value] = (query.split('&')[0] ?? '').split('=');
    if (field === 'platform' || field === 'intent')
      expect(page).toMatch(new RegExp(`<option value="${value}" selected>`, 'u'));
  });

  it('shows a filter that cannot be used next to its field (400), and lists without it', async () => {
    const res = await t.request('/inbox?platform=myspace&intent=angry&watch=BAD%20ID&escalated=maybe', {
      as: 'viewer',
    });
    expect(res.status).toBe(400);
    const page = await res.text();
    for (const field of ['platform', 'intent', 'watch', 'escalated'])
      expect(errorAt(page, field)).toBeTruthy();
    expect(errorAt(page, 'status')).toBeUndefined();
    expect(matchIdsOf(page)).toHaveLength(50);
  });

  it('pages through everything with keyset links, newest first, without gaps or repeats', async () => {
    const seen: string[] = [];
    let path: string | null = '/inbox';
    for (let guard = 0; path !== null && guard < 5; guard++) {
      const page: string = await (await t.request(path, { as: 'viewer' })).text();
      seen.push(...matchIdsOf(page));
      const next: string | undefined = /<a href="([^"]+)" rel="next">/u.exec(page)?.[1];
      path = next === undefined ? null : unescapeHtml(next);
    }
    expect(seen).toEqual(all.map((x) => x.id));
  });

  it('keeps the filters on the next page and refuses a forged cursor', async () => {
    const first = await (await t.request('/inbox?platform=x&suppressed=false', { as: 'viewer' })).text();
    const next = unescapeHtml(/<a href="([^"]+)" rel="next">/u.exec(first)?.[1] ?? '');
    expect(next).toContain('platform=x');
    expect(next).toContain('suppressed=false');
    const second = await (await t.request(next, { as: 'viewer' })).text();
    const expected = all.filter((x) => x.platform === 'x' && !x.suppressed).map((x) => x.id);
    expect([...matchIdsOf(first), ...matchIdsOf(second)]).toEqual(expected);

    const forged = await t.request('/inbox?before=not-a-cursor!', { as: 'viewer' });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('data-field="before"');
  });
});

describe('GET /inbox/:id', () => {
  it('shows the match in full: post, author, rules, review message, history and no actions for a viewer', async () => {
    const billing = m.billing as MatchRecord;
    await t.repos.reviews.claimMessage(billing.id, '111', 'nonce1');
    await t.repos.reviews.setMessageId(billing.id, '999000111');
    const res = await t.request(`/inbox/${billing.id}`, { as: 'viewer' });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('ブクログで課金できない');
    expect(page).toContain(billing.post.url);
    expect(page).toContain('x-main'); // the account that received it
    expect(page).toContain('billing'); // escalation rule and route
    expect(page).toContain('data-review="posted"');
    expect(page).toContain('999000111');
    expect(page).toContain('まだ誰も対応していません');
    expect(page).toContain('閲覧者は対応できません');
    expect(page).not.toContain(`action="/inbox/${billing.id}/reply"`);
    expect(page).not.toContain(`action="/inbox/${billing.id}/escalate"`);
  });

  it('offers an editor the reply form prefilled with the suggested template, rendered for the post', async () => {
    const praise = m.praise as MatchRecord;
    const page = await (await t.request(`/inbox/${praise.id}`, { as: 'editor' })).text();
    expect(page).toContain(`action="/inbox/${praise.id}/reply"`);
    // thanks-x (the X template wins over the "*" one), rendered with the author's name.
    expect(page).toMatch(/<textarea[^>]*name="text"[^>]*>User \d+さん、ありがとうございます！<\/textarea>/u);
    expect(page).toContain('<option value="thanks-x" selected>');
    // The platform is named once: "お礼 (X)" already says it.
    expect(page).toContain('<option value="thanks-x" selected>お礼 (X)</option>');
    expect(page).toContain('<option value="apology">お詫び</option>');
    expect(page).toMatch(/\d+ \/ 280 文字/u);
    expect(page).toContain(`action="/inbox/${praise.id}/escalate"`);
    expect(page).toContain('<option value="billing">billing</option>');
    expect(page).not.toContain('<option value="legal">'); // no Discord channel for it
    expect(page).toContain(`action="/inbox/${praise.id}/dismiss"`);
  });

  it('prefills another template when one is chosen (GET, without JavaScript)', async () => {
    const trouble = m.trouble as MatchRecord;
    const page = await (await t.request(`/inbox/${trouble.id}?template=apology`, { as: 'editor' })).text();
    expect(page).toContain('<option value="apology" selected>');
    expect(page).toContain('ご不便をおかけして申し訳ありません。https://help.example.com/login</textarea>');
    // Mastodon counts the mention the connector puts in front.
    expect(page).toContain(`「@${trouble.post.author.handle}」`);
    const none = await (await t.request(`/inbox/${trouble.id}?template=`, { as: 'editor' })).text();
    expect(none).toMatch(/<textarea[^>]*name="text"[^>]*><\/textarea>/u);
  });

  it('does not offer a reply to a suppressed match', async () => {
    const page = await (await t.request(`/inbox/${m.own?.id}`, { as: 'editor' })).text();
    expect(page).toContain('抑制されたマッチには返信できません');
    expect(page).not.toContain(`action="/inbox/${m.own?.id}/reply"`);
    expect(page).toContain('data-review="suppressed"');
  });

  it('shows what was decided in Discord: both read the same tables', async () => {
    const trouble = m.trouble as MatchRecord;
    const now = new Date();
    await t.repos.reviews.recordDecision(
      trouble.id,
      'escalate',
      DISCORD_REVIEWER,
      { target: 'billing' },
      now,
    );
    await t.repos.matches.setStatus(trouble.id, 'escalated', now);
    const page = await (await t.request(`/inbox/${trouble.id}?lang=en`, { as: 'viewer' })).text();
    expect(page).toContain('data-decision="escalate"');
    expect(page).toContain('discord-reviewer');
    expect(page).toContain('<span class="badge">Discord</span>');
    expect(page).toContain('data-status="escalated"');
  });

  it('answers 404 for a match that does not exist', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const res = await t.request(`/inbox/${id}`, { as: 'viewer' });
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('マッチが見つかりません');
    }
  });
});

/** Parses our CSV (RFC 4180), enough for the tests. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  return rows;
}

describe('GET /inbox.csv', () => {
  it('exports the filtered matches as UTF-8 CSV with a BOM, quoted and guarded against formulas', async () => {
    const res = await t.request('/inbox.csv?platform=x', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="kikimimi-matches-\d{8}\.csv"$/u,
    );
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).slice(1);
    const rows = parseCsv(text);
    const header = rows[0] as string[];
    expect(header.slice(0, 4)).toEqual(['id', 'created_at', 'platform', 'status']);
    const body = rows.slice(1);
    expect(body.map((r) => r[0])).toEqual(all.filter((x) => x.platform === 'x').map((x) => x.id));
    const col = (name: string) => header.indexOf(name);
    const formula = body.find((r) => r[0] === m.formula?.id) as string[];
    // A formula is written as text, with its quotes, comma and line break intact.
    expect(formula[col('post_text')]).toBe(`'=HYPERLINK("http://evil.example","ブクログ"), "quoted"\n2行目`);
    expect(formula[col('author_name')]).toBe(`'@SUM(A1)`);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""ブクログ""), ""quoted""\n2行目"`);
    const own = body.find((r) => r[0] === m.own?.id) as string[];
    expect(own[col('suppression_reasons')]).toBe('own_account');
    expect(own[col('author_name')]).toBe('ブクログ公式');
  });

  it('refuses a bad filter instead of exporting something else', async () => {
    const res = await t.request('/inbox.csv?status=lost', { as: 'viewer' });
    expect(res.status).toBe(400);
  });
});

describe('GET /api/matches', () => {
  it('pages with a cursor and the same filters', async () => {
    const token = await t.apiToken('viewer');
    const headers = { Authorization: `Bearer ${token}` };
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 20; guard++) {
      const query: string = `/api/matches?suppressed=false&limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.request(query, { headers });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        items: Array<{ id: string; suppressed: boolean }>;
        nextCursor: string | null;
      };
      expect(body.items.every((i) => !i.suppressed)).toBe(true);
      seen.push(...body.items.map((i) => i.id));
      cursor = body.nextCursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual(all.filter((x) => !x.suppressed).map((x) => x.id));
  });

  it('answers a bad query with the problems', async () => {
    const res = await t.request('/api/matches?status=nope&limit=0&cursor=%%%', { as: 'viewer' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { problems: Array<{ path: string }> };
    expect(body.problems.map((p) => p.path).sort()).toEqual(['cursor', 'limit', 'status']);
  });

  it('gives one match with its decisions, reply, review message and possible actions', async () => {
    const res = await t.request(`/api/matches/${m.billing?.id}`, { as: 'viewer' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.match).toMatchObject({
      id: m.billing?.id,
      platform: 'x',
      status: 'new',
      priority: 'urgent',
      escalated: true,
      post: { text: 'ブクログで課金できない' },
    });
    expect(body.reviewMessage).toEqual({ channelId: '111', messageId: '999000111', posted: true });
    expect(body.reply).toBeNull();
    expect(body.actions).toEqual({
      reply: true,
      dismiss: true,
      manualDone: false,
      escalationTargets: ['billing'],
      escalationPostedToDiscord: true,
    });
    expect(JSON.stringify(body)).not.toContain('secret-x');
    expect(
      (await t.request('/api/matches/00000000-0000-4000-8000-000000000000', { as: 'viewer' })).status,
    ).toBe(404);
  });
});

describe('GET /inbox/:id explains the rules’ decisions in the reader’s language', () => {
  it('escalation reasons and suppression details', async () => {
    const billing = await (await t.request(`/inbox/${m.billing?.id}`, { as: 'viewer' })).text();
    expect(billing).toContain('クエリに一致');
    expect(billing).not.toContain('query matched');
    const own = await (await t.request(`/inbox/${m.own?.id}`, { as: 'viewer' })).text();
    expect(own).toContain('@booklog_official は X の自社アカウントです');
    const en = await (await t.request(`/inbox/${m.billing?.id}?lang=en`, { as: 'viewer' })).text();
    expect(en).toContain('query matched');
  });
});

// Last: adds matches, which the listing tests above count.
describe('GET /inbox/:id in the customer’s language', () => {
  it('prefills an English post with the English template, listed first', async () => {
    const english = await w.match('booklog is the best, thank you!', {
      lang: 'en',
      author: { id: 'alex', handle: 'alex_m', displayName: 'Alex M.', followers: 3 },
    });
    const page = await (await t.request(`/inbox/${english.id}`, { as: 'editor' })).text();
    expect(page).toMatch(/<textarea[^>]*name="text"[^>]*>Thank you, Alex M\.!<\/textarea>/u);
    expect(page).toMatch(
      /<optgroup label="[^"]*"><option value="thanks-en" selected>Thanks<\/option><option value="thanks-x">/u,
    );
    // A Japanese post keeps the Japanese one.
    const japanese = await w.match('ブクログありがとう！', { lang: 'ja' });
    const ja = await (await t.request(`/inbox/${japanese.id}`, { as: 'editor' })).text();
    expect(ja).toContain('<option value="thanks-x" selected>');
  });
});
