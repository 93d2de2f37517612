import type { MatchRecord } from '@kikimimi/db';
import { measureReply } from '@kikimimi/rules';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestSession } from './harness.ts';
import { errorAt, makePost, matchIdsOf, setUpWorld, unescapeHtml, type World } from './inbox-fixtures.ts';

/*
 * The case in the console (issue 11): the thread on the match page, its forms and their JSON twins,
 * the customer's history with the cooldown in words, the inbox's case filters and bulk actions, the
 * length counter's measure and the live feed — against a real PostgreSQL, through the real desk.
 */

let t: TestApp;
let w: World;
let editor: TestSession;
let clock = new Date('2026-11-24T09:00:00Z');
const DAY = 86_400_000;

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
  w = await setUpWorld(t);
  editor = await t.login('editor');
});
afterAll(async () => {
  await t?.close();
});
beforeEach(() => {
  t.enqueued.length = 0;
});

const tick = (ms = 1000) => {
  clock = new Date(clock.getTime() + ms);
  return clock;
};

/** A match we answered (reply sent as `ours`), and the customer's answer read as `kind`. */
async function answered(
  ours: string,
  answer: { id: string; text: string; kind: 'thanks' | 'unhappy' | 'question' | 'other'; signals?: string[] },
  post = makePost(`ブクログが開きません ${ours}`),
): Promise<MatchRecord> {
  const [match] = await w.store([post]);
  if (match === undefined) throw new Error('no match');
  const sent = await t.request(`/api/matches/${match.id}/reply`, {
    as: editor,
    json: { text: 'ご不便をおかけしております', category: 'apology' },
  });
  const body = (await sent.json()) as { reply: { id: string } };
  await t.repos.replies.markSent(body.reply.id, { platformReplyId: ours, url: null }, tick(), {
    followUntil: new Date(clock.getTime() + 7 * DAY),
  });
  await t.repos.cases.recordActivity(
    w.account.id,
    {
      kind: 'answer',
      post: {
        ...match.post,
        id: answer.id,
        url: `https://x.com/i/status/${answer.id}`,
        inReplyTo: ours,
        text: answer.text,
        createdAt: clock.toISOString(),
      },
      reading: { kind: answer.kind, signals: answer.signals ?? [], lang: 'ja' },
    },
    tick(),
    () => [],
  );
  tick();
  return match;
}

const page = async (path: string, as: TestSession | 'viewer' = editor) => {
  const response = await t.request(path, { as });
  return { status: response.status, text: await response.text() };
};

describe('the case on the match page', () => {
  it('shows the conversation in time order: their post, our reply, their answer with its reading, a note', async () => {
    const match = await answered('ours-1', {
      id: 'answer-1',
      text: 'まだログインできません…',
      kind: 'unhappy',
      signals: ['まだ', 'できません'],
    });
    const noted = await t.request(`/inbox/${match.id}/note`, {
      as: editor,
      form: { text: '先週も同じ問い合わせあり（社内用）' },
    });
    expect(noted.status).toBe(303);
    expect(noted.headers.get('location')).toBe(`/inbox/${match.id}?done=noted`);

    const { text } = await page(`/inbox/${match.id}?done=noted&lang=en`);
    expect(text).toContain('Note saved.');
    const thread = /<ol class="thread" id="case-thread">([\s\S]*?)<\/ol>/u.exec(text)?.[1] ?? '';
    const entries = [...thread.matchAll(/data-entry="(\w+)"/gu)].map((m) => m[1]);
    expect(entries).toEqual(['post', 'reply', 'answer', 'note']);
    expect(thread).toContain('まだログインできません…');
    expect(thread).toMatch(/data-reading="unhappy"/u);
    expect(thread).toContain('Still unhappy');
    expect(thread).toContain('まだ, できません');
    expect(thread).toContain('先週も同じ問い合わせあり（社内用）');
    expect(thread).toContain('data-reply-state="sent"');
    // The state and assignee at the top: the unhappy answer reopened it, nobody has it.
    expect(text).toMatch(/id="case-summary">[\s\S]*data-case-state="open"[\s\S]*Nobody/u);

    const ja = await page(`/inbox/${match.id}`);
    expect(ja.text).toContain('まだ不満');
  });

  it('answers the customer with a follow-up (template, counted as the platform counts), once', async () => {
    const match = await answered('ours-2', { id: 'answer-2', text: '別の質問です', kind: 'question' });
    t.enqueued.length = 0;
    // The template menu of the follow-up renders for the answer's author.
    const chosen = await page(`/inbox/${match.id}?followTemplate=thanks-x`);
    const area = /<textarea id="follow-text"[^>]*>([^<]*)<\/textarea>/u.exec(chosen.text)?.[1];
    expect(unescapeHtml(area ?? '')).toBe(`${match.post.author.displayName}さん、ありがとうございます！`);

    const tooLong = await t.request(`/inbox/${match.id}/follow-up`, {
      as: editor,
      form: { text: 'あ'.repeat(200), category: 'guidance' },
    });
    expect(tooLong.status).toBe(422);
    const refused = await tooLong.text();
    expect(errorAt(refused, 'text')).toMatch(/400 \/ 280/u);
    // What was typed stays in the box.
    expect(refused).toContain('あ'.repeat(200));

    const sent = await t.request(`/inbox/${match.id}/follow-up`, {
      as: editor,
      form: { text: '確認いたします', category: 'guidance', answerId: '' },
    });
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(`/inbox/${match.id}?done=followed_up`);
    expect(t.enqueued.filter((j) => j.queue === 'reply')).toHaveLength(1);
    const again = await t.request(`/inbox/${match.id}/follow-up`, {
      as: editor,
      form: { text: '確認いたします', category: 'guidance' },
    });
    expect(again.status).toBe(409);
    const replies = await t.repos.replies.listForMatch(match.id);
    expect(replies.map((r) => [r.seq, r.target?.postId ?? null])).toEqual([
      [1, null],
      [2, 'answer-2'],
    ]);
    const { text } = await page(`/inbox/${match.id}?done=followed_up`);
    expect(text).toMatch(/data-entry="reply" data-reply-id="[^"]+" data-seq="2"/u);
  });

  it('offers "send again" on a failed follow-up, which requeues that reply', async () => {
    const match = await answered('ours-3', { id: 'answer-3', text: 'え？', kind: 'other' });
    const sent = await t.request(`/api/matches/${match.id}/follow-up`, {
      as: editor,
      json: { text: 'ご説明します', category: 'guidance' },
    });
    expect(sent.status).toBe(200);
    const { reply } = (await sent.json()) as { reply: { id: string; seq: number } };
    expect(reply.seq).toBe(2);
    await t.repos.replies.markFailed(reply.id, 'HTTP 503 from the platform', tick());
    const { text } = await page(`/inbox/${match.id}`);
    expect(text).toContain(`data-retry="${reply.id}"`);
    t.enqueued.length = 0;
    const retried = await t.request(`/inbox/${match.id}/retry`, { as: editor, form: { replyId: reply.id } });
    expect(retried.headers.get('location')).toBe(`/inbox/${match.id}?done=retried`);
    expect(t.enqueued.find((j) => j.queue === 'reply')?.data).toEqual({
      matchId: match.id,
      replyId: reply.id,
    });
  });

  it('assigns (take it, a teammate, nobody) and sets the state, each shown in the thread', async () => {
    const match = await w.match('ブクログの使い方がわかりません');
    const mate = await t.createUser('editor', { username: 'sato' });
    const take = await t.request(`/inbox/${match.id}/assign`, { as: editor, form: { assignee: 'me' } });
    expect(take.headers.get('location')).toBe(`/inbox/${match.id}?done=assigned`);
    expect((await t.repos.matches.get(match.id))?.assignee).toEqual({
      kind: 'web',
      id: editor.user.id,
      name: editor.user.username,
    });
    await t.request(`/inbox/${match.id}/assign`, { as: editor, form: { assignee: mate.id } });
    expect((await t.repos.matches.get(match.id))?.assignee?.name).toBe('sato');
    const unknown = await t.request(`/inbox/${match.id}/assign`, {
      as: editor,
      form: { assignee: '00000000-0000-4000-8000-000000000000' },
    });
    expect(unknown.status).toBe(422);
    expect(errorAt(await unknown.text(), 'assignee')).toBeTruthy();
    const state = await t.request(`/inbox/${match.id}/case-state`, {
      as: editor,
      form: { state: 'resolved' },
    });
    expect(state.headers.get('location')).toBe(`/inbox/${match.id}?done=case_state`);
    const bad = await t.request(`/inbox/${match.id}/case-state`, { as: editor, form: { state: 'closed' } });
    expect(bad.status).toBe(422);

    const { text } = await page(`/inbox/${match.id}?lang=en`);
    expect(text).toContain(`${editor.user.username} assigned it to ${editor.user.username}`);
    expect(text).toContain(`${editor.user.username} assigned it to sato`);
    expect(text).toContain(`${editor.user.username} set the state to &quot;Resolved&quot;`);
    expect(text).toMatch(/id="case-summary">[\s\S]*data-case-state="resolved"[\s\S]*sato/u);
    // The teammates list: the console's editors, "me" first.
    expect(text).toMatch(
      /<select id="assign-to" name="assignee"><option value="">Nobody<\/option><option value="me">/u,
    );
    expect(text).toContain(`<option value="${mate.id}">sato</option>`);
  });

  it('refuses viewers and bad CSRF tokens, and answers the JSON API with the case', async () => {
    const match = await answered('ours-4', {
      id: 'answer-4',
      text: 'ありがとうございます！',
      kind: 'thanks',
    });
    for (const action of ['follow-up', 'note', 'assign', 'case-state']) {
      expect(
        (await t.request(`/inbox/${match.id}/${action}`, { as: 'viewer', form: { text: 'x' } })).status,
      ).toBe(403);
      expect(
        (await t.request(`/inbox/${match.id}/${action}`, { as: editor, form: { text: 'x' }, csrf: 'wrong' }))
          .status,
      ).toBe(403);
    }
    // A viewer reads the conversation but gets none of its forms.
    const seen = await page(`/inbox/${match.id}`, 'viewer');
    expect(seen.text).toContain('data-entry="answer"');
    expect(seen.text).not.toContain('id="note-form"');
    expect(seen.text).not.toContain(`action="/inbox/${match.id}/assign"`);
    const note = await t.request(`/api/matches/${match.id}/note`, { as: editor, json: { text: '  ' } });
    expect(note.status).toBe(422);
    expect(((await note.json()) as { problems: { path: string }[] }).problems[0]?.path).toBe('note');
    const saved = await t.request(`/api/matches/${match.id}/note`, {
      as: editor,
      json: { text: 'よかった' },
    });
    const savedBody = (await saved.json()) as { result: string; event: { kind: string; text: string } };
    expect(savedBody.result).toBe('noted');
    expect(savedBody.event).toMatchObject({ kind: 'note', text: 'よかった' });

    const detail = (await (await t.request(`/api/matches/${match.id}`, { as: 'viewer' })).json()) as {
      match: { caseState: string };
      replies: { seq: number }[];
      case: { state: string; events: { kind: string; reading: { kind: string } | null }[] };
    };
    // A thankful answer to a waiting case resolves it.
    expect(detail.case.state).toBe('resolved');
    expect(detail.match.caseState).toBe('resolved');
    expect(detail.case.events.map((e) => e.kind)).toEqual(['answer', 'note']);
    expect(detail.case.events[0]?.reading?.kind).toBe('thanks');
    expect(detail.replies.map((r) => r.seq)).toEqual([1]);
  });
});

describe('the customer’s history', () => {
  it('lists their earlier matches and replies, across platforms by handle key, and the cooldown in words', async () => {
    // Times in the organisation's time zone.
    const { config } = await t.repos.config.current();
    const saved = await t.repos.config.replace(
      { ...config, organization: { ...config.organization, timeZone: 'Asia/Tokyo' } },
      { kind: 'system', id: 'test', name: 'test' },
    );
    if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
    const author = { id: 'hist-1', handle: 'hanako', displayName: '花子', followers: 3 };
    const first = makePost('ブクログの同期が遅い', { author });
    const earlier = await answered('ours-h1', { id: 'answer-h1', text: 'ありがとう', kind: 'thanks' }, first);
    // The same person on Mastodon, with the same handle: found by the cooldown's handle key.
    const [onMastodon] = await w.store([
      makePost('ブクログのアプリが落ちる', {
        platform: 'mastodon',
        author: { id: 'm-77', handle: 'hanako@mstdn.jp', displayName: 'はなこ', followers: 1 },
      }),
    ]);
    if (onMastodon === undefined) throw new Error('no match');
    // Three weeks later she writes again on X (sessions do not last that long: sign in again).
    tick(21 * DAY);
    editor = await t.login('editor');
    const later = await w.match('ブクログでまた困っています', { author });
    const { text } = await page(`/inbox/${later.id}`);
    const history = /id="customer-history">([\s\S]*?)<\/div>\n<div class="card">/u.exec(text)?.[1] ?? '';
    expect(matchIdsOf(history)).toEqual([earlier.id]);
    expect(history).toContain('3 週間前に返信しました');
    expect(history).toContain('Asia/Tokyo');
    expect(history).toContain('クールダウン（72 時間）は終わっています');
    expect(history).toContain('ご不便をおかけしております');

    // On the Mastodon match the X history shows as the same handle on another platform.
    const m = await page(`/inbox/${onMastodon.id}?lang=en`);
    expect(m.text).toContain(`data-history="${earlier.id}"`);
    expect(m.text).toContain('same handle on X (could be someone else)');
    expect(m.text).toContain('We replied 3 weeks ago');
  });

  it('links the customer with their account on another platform; the history then shows it as linked', async () => {
    const xAuthor = { id: 'link-x', handle: 'taro_reads', displayName: 'たろう', followers: 3 };
    const earlier = await answered(
      'ours-l1',
      { id: 'answer-l1', text: 'ありがとう', kind: 'thanks' },
      makePost('ブクログの本棚が消えた', { author: xAuthor }),
    );
    // The same person on Mastodon under another name: no handle key can find them.
    const [onMastodon] = await w.store([
      makePost('ブクログのバーコード読み取りが遅い', {
        platform: 'mastodon',
        author: { id: 'm-link', handle: 'tarou@mstdn.jp', displayName: 'たろう', followers: 1 },
      }),
    ]);
    if (onMastodon === undefined) throw new Error('no match');
    const before = await page(`/inbox/${onMastodon.id}`);
    expect(before.text).not.toContain(`data-history="${earlier.id}"`);
    expect(before.text).toContain('id="link-identity-form"');
    const refused = await t.request(`/api/matches/${onMastodon.id}/link-identity`, {
      as: editor,
      json: { platform: 'x', handle: '@nobody_known' },
    });
    expect(refused.status).toBe(422);
    const linked = await t.request(`/api/matches/${onMastodon.id}/link-identity`, {
      as: editor,
      json: { platform: 'x', handle: '@Taro_Reads' },
    });
    expect(linked.status).toBe(200);
    const after = await page(`/inbox/${onMastodon.id}`);
    expect(after.text).toContain(`data-history="${earlier.id}"`);
    expect(after.text).toContain('関連付けたアカウント');
    expect((await t.repos.audit.list({ limit: 20 })).map((a) => a.action)).toContain('person.link');
    expect((await page(`/inbox/${onMastodon.id}`, 'viewer')).text).not.toContain('id="link-identity-form"');
  });

  it('says when the cooldown is still running, and when we never replied', async () => {
    const author = { id: 'hist-2', handle: 'taro', displayName: '太郎', followers: 3 };
    await answered(
      'ours-h2',
      { id: 'answer-h2', text: 'どうも', kind: 'other' },
      makePost('ブクログ重い', { author }),
    );
    tick(2 * 3_600_000);
    const again = await w.match('ブクログがまた重い', { author });
    const { text } = await page(`/inbox/${again.id}?lang=en`);
    expect(/<p id="cooldown-state">[^<]*<\/p>/u.exec(text)?.[0]).toMatch(
      /We replied 2 hours ago \(2026-[^)]+ Asia\/Tokyo\)\. Cooldown: new posts are suppressed until/u,
    );
    const stranger = await w.match('ブクログ初めて使う');
    expect((await page(`/inbox/${stranger.id}?lang=en`)).text).toContain(
      'Before this case, we had never replied to this customer.',
    );
  });
});

describe('the inbox', () => {
  it('filters by case state and assignee (me, nobody, a teammate), and shows both columns', async () => {
    const mine = await w.match('ブクログ 絞り込み 1');
    const theirs = await w.match('ブクログ 絞り込み 2');
    const nobody = await w.match('ブクログ 絞り込み 3');
    const mate = await t.createUser('editor', { username: 'suzuki' });
    await t.request(`/inbox/${mine.id}/assign`, { as: editor, form: { assignee: 'me' } });
    await t.request(`/inbox/${theirs.id}/assign`, { as: editor, form: { assignee: mate.id } });
    await t.request(`/inbox/${theirs.id}/case-state`, { as: editor, form: { state: 'waiting' } });

    const ids = async (query: string) => matchIdsOf((await page(`/inbox?${query}`)).text);
    expect(await ids('assignee=me')).toContain(mine.id);
    expect(await ids('assignee=me')).not.toContain(theirs.id);
    expect(await ids(`assignee=${mate.id}`)).toEqual([theirs.id]);
    const unassigned = await ids('assignee=nobody');
    expect(unassigned).toContain(nobody.id);
    expect(unassigned).not.toContain(mine.id);
    expect(await ids('case=waiting')).toContain(theirs.id);
    expect(await ids('case=waiting')).not.toContain(mine.id);
    expect(await ids('case=waiting&assignee=nobody')).not.toContain(theirs.id);
    expect(await ids('case=open&assignee=me')).toContain(mine.id);
    const bad = await page('/inbox?case=closed&assignee=someone');
    expect(bad.status).toBe(400);
    expect(errorAt(bad.text, 'case')).toBeTruthy();
    expect(errorAt(bad.text, 'assignee')).toBeTruthy();

    const list = (await page('/inbox?lang=en')).text;
    const row = new RegExp(`<tr data-match-id="${theirs.id}">[\\s\\S]*?</tr>`, 'u').exec(list)?.[0] ?? '';
    expect(row).toContain('data-case-state="waiting"');
    expect(row).toContain('suzuki');
    // The API takes the same filters.
    const api = (await (
      await t.request(`/api/matches?case=waiting&assignee=${mate.id}`, { as: editor })
    ).json()) as {
      items: { id: string; caseState: string; assignee: { name: string } }[];
    };
    expect(api.items.map((i) => [i.id, i.caseState, i.assignee.name])).toEqual([
      [theirs.id, 'waiting', 'suzuki'],
    ]);
  });

  it('dismisses and assigns the selected rows in bulk, one outcome per row', async () => {
    const a = await w.match('ブクログ まとめて 1');
    const b = await w.match('ブクログ まとめて 2');
    await t.request(`/inbox/${b.id}/dismiss`, { as: editor, form: { reason: 'spam' } });
    const response = await t.request('/inbox/bulk?lang=en', {
      as: editor,
      form: { action: 'dismiss', ids: [a.id, b.id, 'not-a-match'] },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('1 done, 2 refused');
    expect(text).toMatch(new RegExp(`data-result="ok" data-id="${a.id}"`, 'u'));
    expect(text).toMatch(new RegExp(`data-result="already_handled" data-id="${b.id}"`, 'u'));
    expect(text).toMatch(/data-result="not_found" data-id="not-a-match"/u);
    expect((await t.repos.matches.get(a.id))?.status).toBe('dismissed');

    const c1 = await w.match('ブクログ まとめて 3');
    const c2 = await w.match('ブクログ まとめて 4');
    const json = await t.request('/api/matches/bulk', {
      as: editor,
      json: { action: 'assign', ids: [c1.id, c2.id], assignee: 'me' },
    });
    const body = (await json.json()) as { results: { id: string; ok: boolean; result: string }[] };
    expect(body.results.map((r) => [r.id, r.ok, r.result])).toEqual([
      [c1.id, true, 'assigned'],
      [c2.id, true, 'assigned'],
    ]);
    expect((await t.repos.matches.get(c2.id))?.assignee?.id).toBe(editor.user.id);
    expect((await t.request('/inbox/bulk', { as: editor, form: { action: 'dismiss' } })).status).toBe(422);
    const viewer = await t.login('viewer');
    expect(
      (await t.request('/inbox/bulk', { as: viewer, form: { action: 'dismiss', ids: a.id } })).status,
    ).toBe(403);
    const badJson = await t.request('/api/matches/bulk', { as: editor, json: { action: 'delete', ids: [] } });
    expect(badJson.status).toBe(400);
  });

  it('measures the reply box as the platform counts (X weighted, Mastodon with the mention)', async () => {
    const x = await w.match('ブクログ 長さ');
    const text = 'ありがとうございます！ https://example.com/a/very/long/path/that/counts/as/twenty-three';
    const measured = (await (
      await t.request(`/api/matches/${x.id}/measure`, { as: editor, json: { text } })
    ).json()) as { length: number; limit: number; ok: boolean };
    expect(measured).toMatchObject({ length: measureReply(text, 'x').length, limit: 280, ok: true });
    expect(measured.length).toBe(11 * 2 + 1 + 23);
    const m = await w.match('ブクログ 長さ 2', {
      platform: 'mastodon',
      author: { id: 'm-len', handle: 'yuki@mstdn.jp', displayName: 'ゆき', followers: 1 },
    });
    const onMastodon = (await (
      await t.request(`/api/matches/${m.id}/measure`, { as: editor, json: { text: 'どうも' } })
    ).json()) as { length: number; limit: number };
    // "@yuki どうも": the mention counts as @yuki.
    expect(onMastodon).toMatchObject({ length: 5 + 1 + 3, limit: 500 });
    expect((await t.request(`/api/matches/${m.id}/measure`, { as: editor, json: {} })).status).toBe(400);
  });
});

describe('the live inbox', () => {
  it('streams new and changed matches that fit the filters as rendered rows', async () => {
    const controller = new AbortController();
    const response = await t.app.request('/inbox/events?case=open', {
      headers: { Cookie: editor.cookie },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/u);
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

    // A new match, announced as the worker announces it after ingest.
    const fresh = await w.match('ブクログ ライブ');
    await t.deps.live?.publish('new', [fresh.id]);
    const added = JSON.parse(await nextEvent('rows')) as {
      rows: { id: string; kind: string; html: string }[];
    };
    expect(added.rows.map((r) => [r.id, r.kind])).toEqual([[fresh.id, 'new']]);
    expect(added.rows[0]?.html).toContain(`<tr data-match-id="${fresh.id}">`);
    expect(added.rows[0]?.html).toContain('ブクログ ライブ');

    // Resolved: it no longer fits `case=open`, so the open inbox drops it (the console announces its own decisions).
    await t.request(`/inbox/${fresh.id}/case-state`, { as: editor, form: { state: 'resolved' } });
    const changed = JSON.parse(await nextEvent('rows')) as { rows: unknown[]; gone: string[] };
    expect(changed).toEqual({ rows: [], gone: [fresh.id] });
    controller.abort();
    await reader.cancel().catch(() => {});
  });
});
