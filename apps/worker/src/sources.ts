import { createHash } from 'node:crypto';
import type { PollSource, StreamSource } from '@kikimimi/connectors';
import type { PlatformAccount } from '@kikimimi/db';
import { MAX_SOURCES_PER_ACCOUNT, type RulesEngine } from '@kikimimi/rules';

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Mastodon full-text search is best effort and costs a request per term per poll: only the first few. */
const MAX_MASTODON_SEARCH_TERMS = 5;

/**
 * The sources an account listens on for the current watches. Keys are stable for the same query, so
 * a cursor survives restarts and unrelated configuration changes. At most MAX_SOURCES_PER_ACCOUNT
 * searches or hashtag timelines (a configuration saved now cannot need more; an older one is cut).
 */
export function sourcesFor(
  account: PlatformAccount,
  engine: RulesEngine,
): { poll: PollSource[]; stream: StreamSource[] } {
  if (account.platform === 'x') {
    return {
      poll: engine.xQueries.queries.slice(0, MAX_SOURCES_PER_ACCOUNT).map((q) => ({
        platform: 'x' as const,
        kind: 'search' as const,
        key: `x-search-${digest(q.query)}`,
        query: q.query,
      })),
      stream: [],
    };
  }
  if (account.platform === 'bluesky') {
    return {
      poll: engine.blueskyQueries.queries.slice(0, MAX_SOURCES_PER_ACCOUNT).map((q) => ({
        platform: 'bluesky' as const,
        kind: 'search' as const,
        key: `bluesky-search-${digest(q.query)}`,
        query: q.query,
      })),
      // The whole network's firehose: the matcher keeps what the watches match. One per account;
      // its cursor is stored under this key with the posts it brought (source_states).
      stream: account.streamEnabled
        ? [{ platform: 'bluesky' as const, kind: 'firehose' as const, key: 'bluesky-firehose' }]
        : [],
    };
  }
  const { hashtags, searchTerms } = engine.mastodonSources;
  const poll: PollSource[] = [
    { platform: 'mastodon', kind: 'mentions', key: 'mastodon-mentions' },
    ...hashtags.slice(0, MAX_SOURCES_PER_ACCOUNT).map((tag) => ({
      platform: 'mastodon' as const,
      kind: 'hashtag' as const,
      key: `mastodon-tag-${digest(tag)}`,
      tag,
    })),
    ...searchTerms.slice(0, MAX_MASTODON_SEARCH_TERMS).map((query) => ({
      platform: 'mastodon' as const,
      kind: 'search' as const,
      key: `mastodon-search-${digest(query)}`,
      query,
    })),
  ];
  const stream: StreamSource[] = account.streamEnabled
    ? [{ platform: 'mastodon', kind: 'stream', key: 'mastodon-stream-public', stream: 'public' }]
    : [];
  return { poll, stream };
}
