import { startBlueskySandbox } from '@kikimimi/sandbox';
import { createBlueskyConnector } from '../src/bluesky/bluesky-connector.ts';
import type { ContractHarness } from './contract-harness.ts';

// A word no generated text contains by accident, so the search sees exactly the suite's posts.
const KEYWORD = 'kikimimisandbox';

/**
 * The Bluesky connector (through @atproto/api's AtpAgent) against a fresh Bluesky stand-in, for the
 * shared contract suite: a search source, signed in before the suite's faults so they reach the
 * search itself. (The connector is tested against Bluesky's own reference servers in
 * src/bluesky/bluesky-connector.test.ts.)
 */
export const blueskyHarness: ContractHarness = {
  platform: 'bluesky',
  async start() {
    const sandbox = await startBlueskySandbox();
    const connector = createBlueskyConnector({
      service: sandbox.url,
      identifier: sandbox.account.handle,
      appPassword: sandbox.appPassword,
      timeoutMs: 5_000,
    });
    await connector.verifyCredentials();
    return {
      connector,
      source: { platform: 'bluesky', kind: 'search', key: 'bluesky:contract', query: KEYWORD },
      keyword: KEYWORD,
      pageSize: 100,
      // A repost is a record of its own (app.bsky.feed.repost), never a post a search lists.
      repostsInSource: false,
      burstOldestFirst: false,
      addPost: (post) => sandbox.addPost(post),
      addRichPost() {
        // The Bluesky app shows a long link shortened ("example.com/help/login?…"); the facet has it whole.
        const link = 'https://example.com/help/login?from=bluesky&lang=ja';
        const shown = 'example.com/help/login?…';
        const text = `${KEYWORD} ログインできません ${shown} 😢 #障害`;
        const bytes = new TextEncoder();
        const start = bytes.encode(`${KEYWORD} ログインできません `).length;
        const tagStart = bytes.encode(`${KEYWORD} ログインできません ${shown} 😢 `).length;
        const id = sandbox.addPost({
          text,
          author: { handle: 'rich-author.bsky.social', name: 'Rich Author' },
          lang: 'ja',
          facets: [
            {
              index: { byteStart: start, byteEnd: start + bytes.encode(shown).length },
              features: [{ $type: 'app.bsky.richtext.facet#link', uri: link }],
            },
            {
              index: { byteStart: tagStart, byteEnd: tagStart + bytes.encode('#障害').length },
              features: [{ $type: 'app.bsky.richtext.facet#tag', tag: '障害' }],
            },
          ],
        });
        return { id, expectedText: `${KEYWORD} ログインできません ${link} 😢 #障害`, expectedUrls: [link] };
      },
      replies: () => sandbox.replies(),
      faults: sandbox.faults,
      setReplyRestricted: (restricted) => sandbox.setReplyRestricted(restricted),
      close: () => sandbox.close(),
    };
  },
};
