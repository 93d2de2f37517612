import type { PollSource } from '@kikimimi/connectors';
import type { PlatformAccount } from '@kikimimi/db';
import {
  type BlueskyQueryPlan,
  type CompiledWatch,
  type Config,
  type ContactRecord,
  compileBlueskyQueries,
  compileMastodonSources,
  compileXQueries,
  type Decision,
  loadConfig,
  type MastodonSources,
  organizationTimeZone,
  type Platform,
  type Post,
  type RulesEngine,
  tryParseQuery,
  type XQueryPlan,
} from '@kikimimi/rules';
import type { Lang, WebDeps } from '../../context.ts';
import { t } from '../../i18n.ts';
import { buildConnector, explainFailure, secretsIn, withTimeout } from './connectors.ts';
import type { Problem } from './shared.ts';

/** Stored posts a dry-run looks at. */
export const PREVIEW_POSTS = 500;
/** Matches shown in a preview (the count covers all of them). */
export const PREVIEW_SHOWN = 50;
/** One fresh fetch: one page; X bills every post read, so its page is X's smallest. */
export const FETCH_PAGE_SIZE: Record<Platform, number> = { x: 10, mastodon: 20, bluesky: 25 };

const HOUR = 3_600_000;

/** What a watch (an input, perhaps not saved) turns into on each platform. */
export interface CompiledWatchInfo {
  readonly x: XQueryPlan | null;
  readonly maxQueryLength: number;
  readonly mastodon: MastodonSources | null;
  readonly bluesky: BlueskyQueryPlan | null;
}

export function compileWatch(
  config: Config,
  watch: { id: string; query: string; platforms?: readonly Platform[] | undefined },
): CompiledWatchInfo | null {
  const parsed = tryParseQuery(watch.query);
  if (!parsed.ok) return null;
  const compiled: CompiledWatch = { id: watch.id || 'watch', ast: parsed.ast };
  const on = (platform: Platform) =>
    watch.platforms === undefined || watch.platforms.length === 0 || watch.platforms.includes(platform);
  return {
    x: on('x')
      ? compileXQueries([compiled], {
          maxLength: config.platforms.x.maxQueryLength,
          excludeReposts: config.platforms.x.excludeReposts,
        })
      : null,
    maxQueryLength: config.platforms.x.maxQueryLength,
    mastodon: on('mastodon') ? compileMastodonSources([compiled]) : null,
    bluesky: on('bluesky') ? compileBlueskyQueries([compiled]) : null,
  };
}

/** The current configuration with this watch in place of the saved one (or added), enabled for the preview. */
export function withWatch(config: Config, watch: Record<string, unknown>): unknown {
  const id = watch.id;
  const watches: unknown[] = [...config.watches];
  const index = config.watches.findIndex((w) => w.id === id);
  const previewed = { ...watch, enabled: true };
  if (index >= 0) watches[index] = previewed;
  else watches.push(previewed);
  return { ...config, watches };
}

export interface PreviewMatch {
  readonly post: Post;
  readonly decision: Extract<Decision, { matched: true }>;
}

export type DryRun =
  | { readonly ok: false; readonly problems: readonly Problem[] }
  | {
      readonly ok: true;
      /** Posts looked at. */
      readonly scanned: number;
      /** Posts this watch matches (all of them; `matches` holds the first PREVIEW_SHOWN). */
      readonly matched: number;
      readonly matches: readonly PreviewMatch[];
    };

/** Decides posts as the worker would, with the authors' contact history and today's reply counts. */
async function decideFor(
  deps: WebDeps,
  config: Config,
  engine: RulesEngine,
  watchId: string,
  posts: readonly Post[],
  now: Date,
): Promise<{ matches: PreviewMatch[]; unmatched: Post[] }> {
  const matching = posts.filter((post) => engine.matchWatches(post).includes(watchId));
  let contactHistory: ContactRecord[] = [];
  const cooldown = config.suppression.authorCooldownHours;
  if (matching.length > 0 && cooldown > 0) {
    contactHistory = await deps.repos.ingest.contactHistory(
      matching.map((p) => ({ platform: p.platform, authorId: p.author.id, handle: p.author.handle })),
      new Date(now.getTime() - cooldown * HOUR),
    );
  }
  const repliesToday =
    matching.length > 0
      ? await deps.repos.ingest.repliesTodayByPlatform(now, organizationTimeZone(config))
      : {};
  const matches: PreviewMatch[] = [];
  for (const post of matching) {
    const decision = engine.decide(post, { now, contactHistory, repliesToday });
    if (decision.matched) matches.push({ post, decision });
  }
  const matchedIds = new Set(matching);
  return { matches, unmatched: posts.filter((p) => !matchedIds.has(p)) };
}

function loadWith(config: Config, watch: Record<string, unknown>) {
  return loadConfig(withWatch(config, watch));
}

/**
 * Dry-runs a watch over the newest stored posts: the current configuration with this watch substituted,
 * through the rules engine, so intent, signals, suppression and escalations are what the worker would decide.
 */
export async function dryRunWatch(deps: WebDeps, watch: Record<string, unknown>, now: Date): Promise<DryRun> {
  const { config } = await deps.repos.config.current();
  const loaded = loadWith(config, watch);
  if (!loaded.ok) return { ok: false, problems: loaded.problems };
  const repo = deps.repos.posts;
  const platforms = loaded.config.watches.find((w) => w.id === watch.id)?.platforms;
  const posts = await repo.recent({
    limit: PREVIEW_POSTS,
    ...(platforms?.length === 1 ? { platform: platforms[0] } : {}),
  });
  const { matches } = await decideFor(deps, loaded.config, loaded.engine, String(watch.id), posts, now);
  return {
    ok: true,
    scanned: posts.length,
    matched: matches.length,
    matches: matches.slice(0, PREVIEW_SHOWN),
  };
}

export type FreshFetch =
  | { readonly ok: false; readonly message: string; readonly problems?: readonly Problem[] }
  | {
      readonly ok: true;
      readonly account: PlatformAccount;
      readonly source: PollSource;
      /** Sources this watch compiles to on the platform; one was fetched. */
      readonly sourceCount: number;
      readonly postsRead: number;
      readonly fetched: number;
      readonly matches: readonly PreviewMatch[];
      readonly unmatched: readonly Post[];
    };

/** The source a fresh fetch reads for this watch alone on the account's platform, and how many there are. */
function sourceFor(
  config: Config,
  watch: Record<string, unknown>,
  platform: Platform,
): { source: PollSource; count: number } | null {
  const info = compileWatch(config, {
    id: String(watch.id ?? 'watch'),
    query: String(watch.query ?? ''),
    platforms: undefined,
  });
  if (info === null) return null;
  if (platform === 'x') {
    const first = info.x?.queries[0];
    if (first === undefined) return null;
    return {
      source: { platform: 'x', kind: 'search', key: 'preview', query: first.query },
      count: info.x?.queries.length ?? 0,
    };
  }
  if (platform === 'bluesky') {
    const first = info.bluesky?.queries[0];
    if (first === undefined) return null;
    return {
      source: { platform: 'bluesky', kind: 'search', key: 'preview', query: first.query },
      count: info.bluesky?.queries.length ?? 0,
    };
  }
  const sources = info.mastodon;
  if (sources === null) return null;
  const count = sources.hashtags.length + sources.searchTerms.length;
  const tag = sources.hashtags[0];
  if (tag !== undefined)
    return { source: { platform: 'mastodon', kind: 'hashtag', key: 'preview', tag }, count };
  const term = sources.searchTerms[0];
  if (term !== undefined)
    return { source: { platform: 'mastodon', kind: 'search', key: 'preview', query: term }, count };
  return null;
}

/**
 * One fresh page from a connected account for a source compiled from this watch alone (a null cursor:
 * the newest posts), decided by the rules. Nothing is stored; the cursor of the real sources is untouched.
 */
export async function fetchFresh(
  deps: WebDeps,
  lang: Lang,
  watch: Record<string, unknown>,
  accountId: string,
  now: Date,
): Promise<FreshFetch> {
  const account = await deps.repos.accounts.get(accountId);
  if (account === null) return { ok: false, message: t(lang, 'config.fetch.noAccount') };
  const { config } = await deps.repos.config.current();
  const loaded = loadWith(config, watch);
  if (!loaded.ok) return { ok: false, message: t(lang, 'config.fetch.invalid'), problems: loaded.problems };
  const platforms = loaded.config.watches.find((w) => w.id === watch.id)?.platforms;
  if (platforms !== undefined && !platforms.includes(account.platform)) {
    return {
      ok: false,
      message: t(lang, 'config.fetch.otherPlatform', {
        platform: t(lang, `config.platform.${account.platform}`),
      }),
    };
  }
  const chosen = sourceFor(loaded.config, watch, account.platform);
  if (chosen === null) return { ok: false, message: t(lang, 'config.fetch.noSource') };
  let credentials: unknown;
  try {
    credentials = await deps.repos.accounts.credentials(account.id);
  } catch (error) {
    deps.log.error({ err: error, account: account.id }, 'credentials unreadable');
    return { ok: false, message: t(lang, 'config.fetch.credentials') };
  }
  try {
    const connector = buildConnector({ ...account, credentials });
    const result = await withTimeout(
      connector.poll(chosen.source, null, { pageBudget: 1, pageSize: FETCH_PAGE_SIZE[account.platform] }),
      15_000,
      account.platform,
    );
    const { matches, unmatched } = await decideFor(
      deps,
      loaded.config,
      loaded.engine,
      String(watch.id),
      result.posts,
      now,
    );
    return {
      ok: true,
      account,
      source: chosen.source,
      sourceCount: chosen.count,
      postsRead: result.postsRead,
      fetched: result.posts.length,
      matches,
      unmatched,
    };
  } catch (error) {
    return { ok: false, message: explainFailure(lang, error, secretsIn(credentials)).message };
  }
}
