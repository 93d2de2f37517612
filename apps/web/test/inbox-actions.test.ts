import type { MatchRecord } from '@kikimimi/db';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WebDeps } from '../src/context.ts';
import { createTestApp, type TestApp, type TestSession } from './harness.ts';
import {
  DISCORD_REVIEWER,
  errorAt,
  makePost,
  setUpWorld,
  unescapeHtml,
  type World,
} from './inbox-fixtures.ts';

let t: TestApp;
let w: World;
let editor: TestSession;

beforeAll(async () => {
  t = await createTestApp();
  w = await setUpWorld(t);
  editor = await t.login('editor');
});

afterAll(async () => {
  await t?.close();
});

beforeEach(() => {
  t.enqueued.length = 0;
});

/** What the tables say about a match: nothing changed means these stay the same. */
async function stateOf(match: MatchRecord) {
  const [current, decisions, reply] = await Promise.all([
    t.repos.matches.get(match.id),
    t.repos.reviews.decisions(match.id),
    t.repos.replies.forMatch(match.id),
  ]);
  return {
    status: current?.status,
    firstResponseAt: current?.firstResponseAt ?? null,
    decisions: decisions.length,
    reply,
  };
}

const fresh = (text = 'ブクログ最高、ありがとう！', extra = {}) => w.match(text, extra);

const FORMS: Record<string, Record<string, string>> = {
  reply: { text: 'ありがとうございます！', category: 'thanks' },
  escalate: { target: 'billing' },
  dismiss: { reason: 'spam' },
  'manual-done': { url: 'https://x.com/us/status/9' },
};
const ACTIONS = Object.keys(FORMS);

describe('who may act', () => {
  it.each(ACTIONS)('POST /inbox/:id/%s: a viewer gets 403 and nothing changes', async (action) => {
    const match = await fresh();
    const before = await stateOf(match);
    const res = await t.request(`/inbox/${match.id}/${action}`, {
      as: 'viewer',
      form: FORMS[action] as Record<string, string>,
    });
    expect(res.status).toBe(403);
    expect(await stateOf(match)).toEqual(before);
    expect(t.enqueued).toEqual([]);
  });

  it.each(ACTIONS)(
    'POST /inbox/:id/%s: without or with a wrong CSRF token → 403, nothing changes',
    async (action) => {
      const match = await fresh();
      const before = await stateOf(match);
      const form = FORMS[action] as Record<string, string>;
      const missing = await t.request(`/inbox/${match.id}/${action}`, { as: editor, form, csrf: false });
      expect(missing.status).toBe(403);
      const wrong = await t.request(`/inbox/${match.id}/${action}`, {
        as: editor,
        form,
        csrf: 'forged-token',
      });
      expect(wrong.status).toBe(403);
      const crossSite = await t.request(`/inbox/${match.id}/${action}`, {
        as: editor,
        form,
        headers: { 'Sec-Fetch-Site': 'cross-site' },
      });
      expect(crossSite.status).toBe(403);
      expect(await stateOf(match)).toEqual(before);
      expect(t.enqueued).toEqual([]);
    },
  );

  it.each(ACTIONS)('POST /inbox/:id/%s signed out: refused, nothing changes', async (action) => {
    const match = await fresh();
    const before = await stateOf(match);
    const res = await t.request(`/inbox/${match.id}/${action}`, {
      form: FORMS[action] as Record<string, string>,
    });
    expect([303, 403]).toContain(res.status);
    if (res.status === 303) expect(res.headers.get('location')).toMatch(/^\/login/u);
    expect(await stateOf(match)).toEqual(before);
  });

  it.each(ACTIONS)(
    'POST /api/matches/:id/%s: 401 signed out, 403 for a viewer (token or session), 403 without CSRF',
    async (action) => {
      const match = await fresh();
      const before = await stateOf(match);
      const json = FORMS[action];
      expect((await t.request(`/api/matches/${match.id}/${action}`, { json })).status).toBe(401);
      expect((await t.request(`/api/matches/${match.id}/${action}`, { as: 'viewer', json })).status).toBe(
        403,
      );
      const viewerToken = await t.apiToken('viewer');
      const byToken = await t.request(`/api/matches/${match.id}/${action}`, {
        json,
        headers: { Authorization: `Bearer ${viewerToken}` },
      });
      expect(byToken.status).toBe(403);
      const noCsrf = await t.request(`/api/matches/${match.id}/${action}`, { as: editor, json, csrf: false });
      expect(noCsrf.status).toBe(403);
      expect(((await noCsrf.json()) as { error: string }).error).toBe('csrf');
      expect(await stateOf(match)).toEqual(before);
      expect(t.enqueued).toEqual([]);
    },
  );
});

describe('reply', () => {
  it('stores the one reply, records the decision as the web user, and queues the reply and the refresh', async () => {
    const match = await fresh();
    const res = await t.request(`/inbox/${match.id}/reply`, {
      as: editor,
      form: { templateId: 'thanks-x', category: 'thanks', text: '  ありがとうございます！\r\nまたどうぞ  ' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/inbox/${match.id}?done=replied`);

    const state = await stateOf(match);
    expect(state.status).toBe('replied');
    expect(state.firstResponseAt).not.toBeNull();
    expect(state.reply).toMatchObject({
      state: 'pending',
      text: 'ありがとうございます！\nまたどうぞ',
      accountId: w.account.id,
      idempotencyKey: `kikimimi-${match.id}`,
      createdBy: { kind: 'web', id: editor.user.id, name: editor.user.username },
    });
    const [decision] = await t.repos.reviews.decisions(match.id);
    expect(decision).toMatchObject({
      kind: 'reply',
      actor: { kind: 'web', id: editor.user.id, name: editor.user.username },
      detail: { category: 'thanks', templateId: 'thanks-x', text: 'ありがとうございます！\nまたどうぞ' },
    });
    expect(t.enqueued).toEqual([
      { queue: 'reply', data: { matchId: match.id }, jobId: `reply-${match.id}` },
      { queue: 'refresh', data: { matchId: match.id }, jobId: `refresh-${match.id}-${decision?.id}` },
    ]);
    const [audit] = await t.repos.audit.list({ limit: 1, action: 'match.reply' });
    expect(audit).toMatchObject({ target: match.id, actor: { kind: 'web', name: editor.user.username } });

    const page = await (await t.request(`/inbox/${match.id}?done=replied`, { as: editor })).text();
    expect(page).toContain('返信を受け付けました');
    expect(page).toContain('data-reply-state="pending"');
    expect(page).toContain('data-decision="reply"');
    expect(page).toContain(editor.user.username);
    expect(page).toContain('このマッチは対応済みです');
  });

  it('is idempotent: a second attempt shows "already handled" and changes nothing', async () => {
    const match = await fresh();
    const form = { text: '一度目', category: 'thanks' };
    expect((await t.request(`/inbox/${match.id}/reply`, { as: editor, form })).status).toBe(303);
    const after = await stateOf(match);
    const second = await t.request(`/inbox/${match.id}/reply`, {
      as: editor,
      form: { text: '二度目', category: 'thanks' },
    });
    expect(second.status).toBe(409);
    expect(await second.text()).toContain('このマッチはすでに対応済みです');
    expect(await stateOf(match)).toEqual(after);
    expect((await t.repos.replies.forMatch(match.id))?.text).toBe('一度目');
    // The reply job may be queued again (a lost job is recovered this way), always under the same id.
    expect(new Set(t.enqueued.filter((j) => j.queue === 'reply').map((j) => j.jobId))).toEqual(
      new Set([`reply-${match.id}`]),
    );
  });

  it('two replies at the same moment: one wins, the other is told it is already handled', async () => {
    const match = await fresh();
    const [a, b] = await Promise.all([
      t.request(`/inbox/${match.id}/reply`, { as: editor, form: { text: 'A', category: 'thanks' } }),
      t.request(`/api/matches/${match.id}/reply`, { as: editor, json: { text: 'B' } }),
    ]);
    const codes = [a.status, b.status];
    expect(codes.filter((code) => code === 303 || code === 200)).toHaveLength(1);
    expect(codes.filter((code) => code === 409)).toHaveLength(1);
    const decisions = (await t.repos.reviews.decisions(match.id)).filter((d) => d.kind === 'reply');
    expect(decisions).toHaveLength(1);
    expect(['A', 'B']).toContain((await t.repos.replies.forMatch(match.id))?.text);
  });

  it('refuses a reply after a decision in Discord (same idempotency key, same tables)', async () => {
    const match = await fresh();
    // What the Discord modal does.
    const now = new Date();
    await t.repos.replies.begin(
      match.id,
      {
        accountId: w.account.id,
        text: 'from Discord',
        idempotencyKey: `kikimimi-${match.id}`,
        actor: DISCORD_REVIEWER,
      },
      now,
    );
    await t.repos.reviews.recordDecision(
      match.id,
      'reply',
      DISCORD_REVIEWER,
      { category: 'thanks', text: 'from Discord' },
      now,
    );
    await t.repos.matches.setStatus(match.id, 'replied', now);
    const res = await t.request(`/api/matches/${match.id}/reply`, {
      as: editor,
      json: { text: 'from the web' },
    });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ error: 'already_handled' });
    expect((await t.repos.replies.forMatch(match.id))?.text).toBe('from Discord');
  });

  it.each([
    ['an empty text', { text: '   \n ', category: 'thanks' }, 'text', '返信の本文を入力してください'],
    [
      'too long for X (weighted: CJK counts 2)',
      { text: 'あ'.repeat(141), category: 'thanks' },
      'text',
      '長すぎます: 282 / 280',
    ],
    ['an unknown template', { text: 'ok', templateId: 'nope' }, 'templateId', 'このテンプレートはありません'],
    ['an unknown category', { text: 'ok', category: 'bribe' }, 'category', 'カテゴリを選んでください'],
  ])(
    'refuses %s with the error next to the field, keeping what was typed, and changes nothing',
    async (_name, form, field, message) => {
      const match = await fresh();
      const before = await stateOf(match);
      const res = await t.request(`/inbox/${match.id}/reply`, { as: editor, form });
      expect(res.status).toBe(422);
      const page = await res.text();
      expect(unescapeHtml(errorAt(page, field) ?? '')).toContain(message);
      if (form.text.trim() !== '') expect(page).toContain(`${form.text}</textarea>`);
      expect(await stateOf(match)).toEqual(before);
      expect(t.enqueued).toEqual([]);
    },
  );

  it('counts the Mastodon way: 141 Japanese characters are fine there, with the mention in front', async () => {
    const match = await fresh('ブクログのアプリ最高', { platform: 'mastodon' });
    const res = await t.request(`/api/matches/${match.id}/reply`, {
      as: editor,
      json: { text: 'あ'.repeat(141) },
    });
    expect(res.status).toBe(200);
    const tooLong = await fresh('ブクログのアプリ最高', { platform: 'mastodon' });
    const handle = tooLong.post.author.handle;
    // 500 minus "@handle " leaves this much room.
    const room = 500 - (handle.length + 2);
    const refused = await t.request(`/api/matches/${tooLong.id}/reply`, {
      as: editor,
      json: { text: 'あ'.repeat(room + 1) },
    });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      error: 'invalid',
      problems: [{ path: 'text', message: `長すぎます: 501 / 500 文字（Mastodon の数え方）。` }],
    });
    const fits = await t.request(`/api/matches/${tooLong.id}/reply`, {
      as: editor,
      json: { text: 'あ'.repeat(room) },
    });
    expect(fits.status).toBe(200);
  });

  it('refuses to answer a suppressed match, an imported one without account, and an unknown match', async () => {
    const own = await fresh('ブクログ更新しました', {
      author: { id: 'own2', handle: 'booklog_official', displayName: '', followers: 1 },
    });
    const suppressed = await t.request(`/api/matches/${own.id}/reply`, { as: editor, json: { text: 'hi' } });
    expect(suppressed.status).toBe(409);
    expect(await suppressed.json()).toMatchObject({ error: 'suppressed' });

    const [imported] = await w.store([makePost('ブクログ最高')], { accountId: null });
    const noAccount = await t.request(`/inbox/${imported?.id}/reply`, { as: editor, form: { text: 'hi' } });
    expect(noAccount.status).toBe(409);
    expect(await noAccount.text()).toContain('返信に使うアカウントがありません');
    expect(await t.repos.replies.forMatch(imported?.id as string)).toBeNull();

    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      expect((await t.request(`/inbox/${id}/reply`, { as: editor, form: { text: 'hi' } })).status).toBe(404);
      expect((await t.request(`/api/matches/${id}/reply`, { as: editor, json: { text: 'hi' } })).status).toBe(
        404,
      );
    }
    expect(t.enqueued).toEqual([]);
  });

  it('says a post its author deleted is closed: no reply form, a 409 for a reply, the status in the inbox', async () => {
    const match = await fresh('ブクログ、同期が止まった');
    await t.repos.ingest.applyDeletion(match.platform, match.postId, new Date());
    const page = await (await t.request(`/inbox/${match.id}`, { as: editor })).text();
    expect(page).toContain('投稿者がこの投稿を削除したため、返信できません。');
    expect(page).toContain('data-status="deleted"');
    expect(page).not.toContain(`action="/inbox/${match.id}/reply"`);
    expect(page).not.toContain(`action="/inbox/${match.id}/dismiss"`);

    const viaForm = await t.request(`/inbox/${match.id}/reply`, { as: editor, form: { text: 'hi' } });
    expect(viaForm.status).toBe(409);
    const viaApi = await t.request(`/api/matches/${match.id}/reply`, { as: editor, json: { text: 'hi' } });
    expect(viaApi.status).toBe(409);
    expect(await viaApi.json()).toMatchObject({
      error: 'post_deleted',
      message: '投稿者がこの投稿を削除したため、返信できません。',
    });
    const detail = await (await t.request(`/api/matches/${match.id}`, { as: editor })).json();
    expect(detail).toMatchObject({ actions: { reply: false, dismiss: false } });
    expect(await t.repos.replies.forMatch(match.id)).toBeNull();

    const inbox = await (await t.request('/inbox?status=deleted', { as: editor })).text();
    expect(inbox).toContain(`/inbox/${match.id}`);
    expect(inbox).toContain('削除済み');
  });

  it('answers the API with the reply, and 400 for a body that is not JSON', async () => {
    const match = await fresh();
    const token = await t.apiToken('editor');
    const res = await t.request(`/api/matches/${match.id}/reply`, {
      json: { text: 'API から', category: 'guidance' },
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      ok: true,
      result: 'replied',
      match: { id: match.id, status: 'replied' },
      decision: { kind: 'reply', detail: { category: 'guidance', text: 'API から' } },
      reply: { state: 'pending', text: 'API から' },
      queued: true,
    });
    const bad = await t.request(`/api/matches/${match.id}/reply`, {
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      method: 'POST',
    });
    expect(bad.status).toBe(400);
  });

  it('keeps the decision and its jobs when the queue is down, says so, and relays them once it is back', async () => {
    const match = await fresh();
    const deps = t.deps as { relayOutbox: WebDeps['relayOutbox'] };
    const original = deps.relayOutbox;
    deps.relayOutbox = async () => false;
    try {
      const res = await t.request(`/inbox/${match.id}/reply`, { as: editor, form: { text: 'hello' } });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/inbox/${match.id}?done=replied&warn=queue`);
      const page = await (await t.request(res.headers.get('location') as string, { as: editor })).text();
      expect(page).toContain('Redis が戻りしだい');
    } finally {
      deps.relayOutbox = original;
    }
    expect((await stateOf(match)).reply?.state).toBe('pending');
    expect(t.enqueued).toEqual([]);
    expect((await t.repos.outbox.pending()).count).toBe(2);
    await t.deps.relayOutbox();
    expect(t.enqueued.map((j) => j.jobId)).toEqual([
      `reply-${match.id}`,
      expect.stringMatching(new RegExp(`^refresh-${match.id}-`, 'u')),
    ]);
  });
});

describe('escalate', () => {
  it('records the escalation and asks the worker to post it in the bound channel (which refreshes the message)', async () => {
    const match = await fresh('ブクログで課金できない');
    const res = await t.request(`/inbox/${match.id}/escalate`, { as: editor, form: { target: 'billing' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/inbox/${match.id}?done=escalated`);
    const state = await stateOf(match);
    expect(state.status).toBe('escalated');
    const [decision] = await t.repos.reviews.decisions(match.id);
    expect(decision).toMatchObject({
      kind: 'escalate',
      detail: { target: 'billing' },
      actor: { kind: 'web', id: editor.user.id },
    });
    expect(t.enqueued).toEqual([
      {
        queue: 'escalate',
        data: { matchId: match.id, target: 'billing', actorName: editor.user.username },
        jobId: `escalate-${match.id}-billing`,
      },
    ]);
    // The same escalation again is already done.
    const again = await t.request(`/inbox/${match.id}/escalate`, { as: editor, form: { target: 'billing' } });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('billing へはすでにエスカレーション済みです');
    expect((await t.repos.reviews.decisions(match.id)).length).toBe(1);
  });

  it('escalates a replied match without changing its status (as Discord does)', async () => {
    const match = await fresh();
    await t.request(`/inbox/${match.id}/reply`, { as: editor, form: { text: 'ok' } });
    const res = await t.request(`/api/matches/${match.id}/escalate`, {
      as: editor,
      json: { target: 'billing' },
    });
    expect(res.status).toBe(200);
    expect((await stateOf(match)).status).toBe('replied');
  });

  it.each([
    ['a route without a Discord channel', 'legal'],
    ['an unknown route', 'sales'],
    ['nothing', ''],
  ])('refuses %s next to the field, and changes nothing', async (_name, target) => {
    const match = await fresh();
    const before = await stateOf(match);
    const res = await t.request(`/inbox/${match.id}/escalate`, { as: editor, form: { target } });
    expect(res.status).toBe(422);
    const page = await res.text();
    expect(unescapeHtml(errorAt(page, 'target') ?? '')).toContain(
      'このエスカレーション先はありません（billing）',
    );
    expect(await stateOf(match)).toEqual(before);
    expect(t.enqueued).toEqual([]);
    const api = await t.request(`/api/matches/${match.id}/escalate`, { as: editor, json: { target } });
    expect(api.status).toBe(422);
    expect(await api.json()).toMatchObject({ problems: [{ path: 'target' }] });
  });
});

describe('escalate without Discord', () => {
  let t2: TestApp;
  let w2: World;
  beforeAll(async () => {
    t2 = await createTestApp();
    w2 = await setUpWorld(t2, { discord: false });
  });
  afterAll(async () => {
    await t2?.close();
  });

  it('offers every route and records the escalation (the worker has no channel to post it in)', async () => {
    const match = await w2.match('ブクログについて弁護士に相談します');
    const page = await (await t2.request(`/inbox/${match.id}`, { as: 'editor' })).text();
    expect(page).toContain('Discord が設定されていないため');
    expect(page).toContain('<option value="legal">legal</option>');
    const res = await t2.request(`/api/matches/${match.id}/escalate`, {
      as: 'admin',
      json: { target: 'legal' },
    });
    expect(res.status).toBe(200);
    const [decision] = await t2.repos.reviews.decisions(match.id);
    expect(decision).toMatchObject({ kind: 'escalate', detail: { target: 'legal' } });
    expect(t2.enqueued).toEqual([
      {
        queue: 'escalate',
        data: { matchId: match.id, target: 'legal', actorName: expect.any(String) },
        jobId: `escalate-${match.id}-legal`,
      },
    ]);
  });
});

describe('dismiss', () => {
  it('dismisses with a reason, then refuses a reply and a second dismissal', async () => {
    const match = await fresh();
    const res = await t.request(`/inbox/${match.id}/dismiss`, { as: editor, form: { reason: '  宣伝  ' } });
    expect(res.status).toBe(303);
    const state = await stateOf(match);
    expect(state.status).toBe('dismissed');
    expect(state.firstResponseAt).not.toBeNull();
    const [decision] = await t.repos.reviews.decisions(match.id);
    expect(decision).toMatchObject({ kind: 'dismiss', detail: { reason: '宣伝' } });
    expect(t.enqueued).toEqual([
      { queue: 'refresh', data: { matchId: match.id }, jobId: `refresh-${match.id}-${decision?.id}` },
    ]);
    const reply = await t.request(`/inbox/${match.id}/reply`, { as: editor, form: { text: 'hi' } });
    expect(reply.status).toBe(409);
    const again = await t.request(`/api/matches/${match.id}/dismiss`, { as: editor, json: {} });
    expect(again.status).toBe(409);
    expect(await t.repos.replies.forMatch(match.id)).toBeNull();
    expect((await t.repos.reviews.decisions(match.id)).length).toBe(1);
  });

  it('refuses a reason over 200 characters next to the field', async () => {
    const match = await fresh();
    const before = await stateOf(match);
    const res = await t.request(`/inbox/${match.id}/dismiss`, {
      as: editor,
      form: { reason: 'x'.repeat(201) },
    });
    expect(res.status).toBe(422);
    expect(errorAt(await res.text(), 'reason')).toBeTruthy();
    expect(await stateOf(match)).toEqual(before);
  });
});

describe('manual reply done', () => {
  it('marks a reply the platform refused as posted by hand', async () => {
    const match = await fresh();
    await t.request(`/inbox/${match.id}/reply`, { as: editor, form: { text: 'by hand please' } });
    const reply = await t.repos.replies.forMatch(match.id);
    // What the reply worker does when X refuses an API reply.
    await t.repos.replies.markManualPending(
      reply?.id as string,
      'https://x.com/intent/post?in_reply_to=1&text=by%20hand',
    );
    t.enqueued.length = 0;

    const page = await (await t.request(`/inbox/${match.id}`, { as: editor })).text();
    expect(page).toContain('data-reply-state="manual_pending"');
    expect(page).toContain('href="https://x.com/intent/post?in_reply_to=1&amp;text=by%20hand"');
    expect(page).toContain(`action="/inbox/${match.id}/manual-done"`);

    const bad = await t.request(`/inbox/${match.id}/manual-done`, {
      as: editor,
      form: { url: 'javascript:alert(1)' },
    });
    expect(bad.status).toBe(422);
    expect(errorAt(await bad.text(), 'url')).toBeTruthy();
    expect((await t.repos.replies.forMatch(match.id))?.state).toBe('manual_pending');

    const res = await t.request(`/inbox/${match.id}/manual-done`, {
      as: editor,
      form: { url: 'https://x.com/us/status/42' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/inbox/${match.id}?done=manual_done`);
    expect(await t.repos.replies.forMatch(match.id)).toMatchObject({
      state: 'manual_done',
      url: 'https://x.com/us/status/42',
    });
    const decisions = await t.repos.reviews.decisions(match.id);
    const last = decisions.at(-1);
    expect(last).toMatchObject({ kind: 'manual_reply', detail: { url: 'https://x.com/us/status/42' } });
    expect((await stateOf(match)).status).toBe('replied');
    expect(t.enqueued).toEqual([
      { queue: 'refresh', data: { matchId: match.id }, jobId: `refresh-${match.id}-${last?.id}` },
    ]);

    const again = await t.request(`/api/matches/${match.id}/manual-done`, { as: editor, json: {} });
    expect(again.status).toBe(409);
  });

  it('refuses when there is nothing to post by hand', async () => {
    const match = await fresh();
    const res = await t.request(`/inbox/${match.id}/manual-done`, { as: editor, form: {} });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('手動での投稿を待っている返信はありません');
  });
});

describe('send a failed reply again', () => {
  it('offers "send again" for a failed reply and queues its one reply job again', async () => {
    const match = await fresh();
    await t.request(`/inbox/${match.id}/reply`, { as: editor, form: { text: 'もう一度' } });
    const reply = await t.repos.replies.forMatch(match.id);
    const pending = await (await t.request(`/inbox/${match.id}`, { as: editor })).text();
    expect(pending).not.toContain(`action="/inbox/${match.id}/retry"`);
    // What the reply worker records when the platform failed (and its job gave up).
    await t.repos.replies.markFailed(reply?.id as string, 'HTTP 503 from X', new Date());
    t.enqueued.length = 0;

    const page = await (await t.request(`/inbox/${match.id}`, { as: editor })).text();
    expect(page).toContain('data-reply-state="failed"');
    expect(page).toContain(`action="/inbox/${match.id}/retry"`);
    const viewer = await (await t.request(`/inbox/${match.id}`, { as: 'viewer' })).text();
    expect(viewer).not.toContain(`action="/inbox/${match.id}/retry"`);

    const res = await t.request(`/inbox/${match.id}/retry`, { as: editor, form: {} });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/inbox/${match.id}?done=retried`);
    expect((await t.repos.replies.forMatch(match.id))?.state).toBe('pending');
    expect(t.enqueued.filter((j) => j.queue === 'reply').map((j) => j.jobId)).toEqual([`reply-${match.id}`]);

    const again = await t.request(`/api/matches/${match.id}/retry`, { as: 'admin', json: {} });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'not_retryable' });
  });
});
