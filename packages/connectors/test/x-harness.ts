import { startXSandbox } from '@kikimimi/sandbox';
import { createXConnector } from '../src/x/x-connector.ts';
import type { ContractHarness } from './contract-harness.ts';

// A word no generated text contains by accident, so the search sees exactly the suite's posts.
const KEYWORD = 'kikimimisandbox';

/** The X connector against a fresh X API v2 stand-in, for the shared connector contract suite. */
export const xHarness: ContractHarness = {
  platform: 'x',
  async start() {
    const sandbox = await startXSandbox();
    const connector = createXConnector({
      baseUrl: sandbox.url,
      credentials: { kind: 'oauth2', accessToken: sandbox.bearerToken },
      timeoutMs: 5_000,
    });
    return {
      connector,
      source: { platform: 'x', kind: 'search', key: 'x:contract', query: KEYWORD },
      keyword: KEYWORD,
      pageSize: 100,
      addPost: (post) => sandbox.addPost(post),
      addRichPost() {
        const link = 'https://help.example.com/articles/42?lang=ja';
        // A link X shortens to t.co, characters X escapes (& < >), a hashtag, a mention and Japanese.
        const expectedText = `${KEYWORD} ログインできない & <エラー> 詳細: ${link} #障害 @kikimimi_help`;
        const id = sandbox.addPost({
          text: expectedText,
          author: { handle: 'rich_author', name: 'Rich Author', followers: 42 },
        });
        return { id, expectedText, expectedUrls: [link] };
      },
      replies: () => sandbox.replies(),
      faults: sandbox.faults,
      setReplyRestricted: (restricted) => sandbox.setReplyRestricted(restricted),
      close: () => sandbox.close(),
    };
  },
};
