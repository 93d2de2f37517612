import { startBlueskySandbox, startMastodonSandbox, startXSandbox } from '@kikimimi/sandbox';
import { describe, expect, it } from 'vitest';
import { answerOurReplies } from './world.ts';

/** The demo's customers write back to the brand's replies, on each stand-in, once per reply. */
describe('demo customers answering', () => {
  it('answer each of our replies once, as the author of the post we answered, in their language', async () => {
    const [x, mastodon, bluesky] = await Promise.all([
      startXSandbox(),
      startMastodonSandbox(),
      startBlueskySandbox(),
    ]);
    const stop = new AbortController();
    try {
      const authors = new Map();
      const xPost = x.addPost({ text: 'shiorinote is broken', author: { handle: 'ken' }, lang: 'en' });
      authors.set(`x:${xPost}`, { text: '', author: { handle: 'ken' }, lang: 'en' });
      const mPost = mastodon.addPost({ text: 'しおりノート 同期できない', author: { handle: 'hana' } });
      authors.set(`mastodon:${mPost}`, { text: '', author: { handle: 'hana' }, lang: 'ja' });
      // The brand replies, through each stand-in's public API.
      const ours = await fetch(`${x.url}/2/tweets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${x.bearerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'Sorry, Ken', reply: { in_reply_to_tweet_id: xPost } }),
      });
      expect(ours.status).toBe(201);
      const toot = await fetch(`${mastodon.url}/api/v1/statuses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${mastodon.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status: '@hana ご不便をおかけしております', in_reply_to_id: mPost }),
      });
      expect(toot.status).toBe(200);
      const yui = { handle: 'yui', name: 'ゆい' };
      const bPost = bluesky.addPost({ text: 'しおりノートの本棚が消えた', author: yui, lang: 'ja' });
      authors.set(`bluesky:${bPost}`, { text: '', author: yui, lang: 'ja' });
      const ourSkeet = await blueskyReply(bluesky.url, bluesky.account.handle, bluesky.appPassword, {
        uri: bPost,
        cid: bluesky.posts().find((p) => p.uri === bPost)?.cid ?? '',
      });
      const running = answerOurReplies({
        x,
        mastodon,
        bluesky,
        authors,
        signal: stop.signal,
        delayMs: () => 0,
        random: () => 0.5,
        everyMs: 20,
      });
      const answers = async () => {
        for (let i = 0; i < 100; i++) {
          const xs = x.replies().length;
          const fromKen = (await (
            await fetch(`${x.url}/2/users/${x.account.id}/mentions`, {
              headers: { authorization: `Bearer ${x.bearerToken}` },
            })
          ).json()) as { data?: Array<{ text: string }> };
          if ((fromKen.data ?? []).length > 0 && xs >= 1) return fromKen.data ?? [];
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error('nobody answered');
      };
      const mentions = await answers();
      expect(mentions).toHaveLength(1);
      expect(mentions[0]?.text).toMatch(/^@\w+ /u);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Once per reply, however often the loop looks, and to our reply.
      const ourToot = mastodon.replies()[0];
      const hers = mastodon.statuses().filter((s) => s.account.acct === 'hana' && s.in_reply_to_id != null);
      expect(hers).toHaveLength(1);
      expect(hers[0]?.in_reply_to_id).toBe(ourToot?.id);
      // On Bluesky: yui (as yui.bsky.social) replies to our reply, in the thread of her post, in Japanese.
      const yuis = bluesky.posts().filter((p) => p.author.handle === 'yui.bsky.social' && p.uri !== bPost);
      expect(yuis).toHaveLength(1);
      expect(yuis[0]?.record).toMatchObject({
        reply: { parent: { uri: ourSkeet }, root: { uri: bPost } },
        langs: ['ja'],
      });
      stop.abort();
      await running;
    } finally {
      stop.abort();
      await Promise.all([x.close(), mastodon.close(), bluesky.close()]);
    }
  });
});

/** The brand replies on the Bluesky stand-in through its XRPC API (sign in, create the record). */
async function blueskyReply(
  url: string,
  handle: string,
  appPassword: string,
  parent: { uri: string; cid: string },
) {
  const session = (await (
    await fetch(`${url}/xrpc/com.atproto.server.createSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: handle, password: appPassword }),
    })
  ).json()) as { accessJwt: string; did: string };
  const created = await fetch(`${url}/xrpc/com.atproto.repo.createRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessJwt}` },
    body: JSON.stringify({
      repo: session.did,
      collection: 'app.bsky.feed.post',
      record: {
        $type: 'app.bsky.feed.post',
        text: 'ご不便をおかけしております',
        reply: { root: parent, parent },
        createdAt: new Date().toISOString(),
      },
    }),
  });
  expect(created.status).toBe(200);
  return ((await created.json()) as { uri: string }).uri;
}
