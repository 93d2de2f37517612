import { startMastodonSandbox } from '@kikimimi/sandbox';
import { createMastodonConnector } from '../src/mastodon/mastodon-connector.ts';
import type { ContractHarness } from './contract-harness.ts';

const TAG = 'kikimimi';

/**
 * The Mastodon side of the shared contract: masto against the stand-in, polling the #kikimimi
 * hashtag timeline and streaming the hashtag stream.
 */
export const mastodonHarness: ContractHarness = {
  platform: 'mastodon',
  async start() {
    const sandbox = await startMastodonSandbox({
      // The contract checks reposts through the poll source; real Mastodon keeps reblogs out of tag
      // timelines, so the stand-in is told to list them (see MastodonSandboxOptions).
      reblogsInTagTimelines: true,
    });
    const connector = createMastodonConnector({
      url: sandbox.url,
      accessToken: sandbox.accessToken,
      timeoutMs: 5_000,
    });
    return {
      connector,
      source: { platform: 'mastodon', kind: 'hashtag', key: `mastodon:tag:${TAG}`, tag: TAG },
      keyword: `#${TAG}`,
      pageSize: 40,
      addPost: (post) => sandbox.addPost(post),
      addRichPost() {
        sandbox.addPost({ text: 'hi', author: { handle: 'bob@remote.example' } });
        const id = sandbox.addPost({
          text: `#${TAG} ログインできません https://example.com/help/login?from=mastodon&lang=ja @bob@remote.example`,
          author: { handle: 'rich' },
          mentions: ['bob@remote.example'],
          html:
            `<p><a href="https://${sandbox.domain}/tags/${TAG}" class="mention hashtag" rel="tag">#<span>${TAG}</span></a> ` +
            'ログインできません &lt;エラー&gt; &amp; 😢<br />' +
            '<a href="https://example.com/help/login?from=mastodon&amp;lang=ja" target="_blank" rel="nofollow noopener" translate="no">' +
            '<span class="invisible">https://</span><span class="ellipsis">example.com/help/login?from=mas</span>' +
            '<span class="invisible">todon&amp;lang=ja</span></a></p>' +
            '<p><span class="h-card" translate="no"><a href="https://remote.example/@bob" class="u-url mention">@<span>bob</span></a></span> :blobcat:</p>',
        });
        return {
          id,
          expectedText:
            `#${TAG} ログインできません <エラー> & 😢\n` +
            'https://example.com/help/login?from=mastodon&lang=ja\n\n@bob@remote.example :blobcat:',
          expectedUrls: ['https://example.com/help/login?from=mastodon&lang=ja'],
        };
      },
      replies: () => sandbox.replies(),
      faults: sandbox.faults,
      setReplyRestricted: (restricted) => sandbox.setReplyRestricted(restricted),
      streamSource: {
        platform: 'mastodon',
        kind: 'stream',
        key: `mastodon:stream:${TAG}`,
        stream: 'hashtag',
        tag: TAG,
      },
      dropStreams: () => sandbox.dropStreams(),
      close: () => sandbox.close(),
    };
  },
};
