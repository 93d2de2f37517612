import type { Actor, MatchRecord, PlatformAccount } from '@kikimimi/db';
import { loadConfig, type Post, type PostInput, postSchema, type RulesEngine } from '@kikimimi/rules';
import type { TestApp } from './harness.ts';

/*
 * Matches for the inbox, dashboard and audit tests: stored through the repositories with the real
 * rules' decisions, exactly as the worker's ingest stores them.
 */

export const SYSTEM: Actor = { kind: 'system', id: 'test', name: 'test' };
export const DISCORD_REVIEWER: Actor = {
  kind: 'discord',
  id: '123456789012345678',
  name: 'discord-reviewer',
};

export const CONFIG = {
  variables: { helpUrl: 'https://help.example.com/login' },
  watches: [
    { id: 'brand', name: 'ブクログ', query: 'ブクログ OR booklog' },
    { id: 'app', query: 'アプリ' },
  ],
  templates: [
    {
      id: 'thanks-x',
      name: 'お礼 (X)',
      platform: 'x',
      category: 'thanks',
      text: '{author.name}さん、ありがとうございます！',
    },
    {
      id: 'thanks-all',
      name: 'お礼',
      category: 'thanks',
      text: '{author.name}さん、いつもありがとうございます。',
    },
    {
      id: 'apology',
      name: 'お詫び',
      category: 'apology',
      text: 'ご不便をおかけして申し訳ありません。{vars.helpUrl}',
    },
    { id: 'guide', name: 'ご案内', category: 'guidance', text: 'こちらをご覧ください: {vars.helpUrl}' },
    {
      id: 'thanks-en',
      name: 'Thanks',
      language: 'en',
      category: 'thanks',
      text: 'Thank you, {author.name}!',
    },
  ],
  escalation: [
    {
      id: 'billing',
      when: { query: '課金' },
      actions: { route: 'billing', priority: 'urgent', mentionRoles: ['billing-team'] },
    },
    { id: 'legal', when: { query: '弁護士' }, actions: { route: 'legal' } },
  ],
  suppression: { ownAccounts: [{ platform: 'x', handle: 'booklog_official' }], maxAgeHours: 0 },
};

export const DISCORD = {
  guildId: '100',
  channels: { review: '111', billing: '222' },
  roles: { 'billing-team': '333' },
};

export function engineOf(config: unknown = CONFIG): RulesEngine {
  const loaded = loadConfig(config);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.engine;
}

let seq = 0;

export function makePost(text: string, extra: Partial<PostInput> = {}): Post {
  seq += 1;
  const id = `${Date.now()}${seq}`;
  const platform = extra.platform ?? 'x';
  return postSchema.parse({
    platform,
    id,
    url: platform === 'x' ? `https://x.com/user${seq}/status/${id}` : `https://mstdn.jp/@user${seq}/${id}`,
    author: { id: `a-${seq}`, handle: `user${seq}`, displayName: `User ${seq}`, followers: 10 * seq },
    text,
    createdAt: '2026-11-24T08:30:00Z',
    ...extra,
  });
}

export interface World {
  readonly account: PlatformAccount;
  readonly mastodonAccount: PlatformAccount;
  readonly engine: RulesEngine;
  /** Stores posts (as one ingest page at `at`) and returns their matches, in order. */
  store(posts: Post[], options?: { at?: Date; accountId?: string | null }): Promise<MatchRecord[]>;
  match(text: string, extra?: Partial<PostInput>, at?: Date): Promise<MatchRecord>;
}

/** The configuration, Discord bindings and two accounts, saved as an admin would. */
export async function setUpWorld(t: TestApp, options: { discord?: boolean } = {}): Promise<World> {
  const saved = await t.repos.config.replace(CONFIG, SYSTEM);
  if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
  if (options.discord !== false) {
    const set = await t.repos.discord.set(DISCORD, SYSTEM);
    if (!set.ok) throw new Error(JSON.stringify(set.problems));
  }
  const account = await t.repos.accounts.create(
    { platform: 'x', label: 'x-main', credentials: { bearerToken: 'secret-x' } },
    SYSTEM,
  );
  const mastodonAccount = await t.repos.accounts.create(
    {
      platform: 'mastodon',
      label: 'mstdn',
      baseUrl: 'https://mstdn.jp',
      credentials: { accessToken: 'secret-m' },
    },
    SYSTEM,
  );
  const engine = engineOf();
  const store: World['store'] = async (posts, storeOptions = {}) => {
    const at = storeOptions.at ?? t.deps.now();
    const byPlatform = new Map<string, Post[]>();
    for (const post of posts) byPlatform.set(post.platform, [...(byPlatform.get(post.platform) ?? []), post]);
    const out = new Map<string, MatchRecord>();
    for (const [platform, group] of byPlatform) {
      const accountId =
        storeOptions.accountId !== undefined
          ? storeOptions.accountId
          : platform === 'mastodon'
            ? mastodonAccount.id
            : account.id;
      const items = group.map((post) => ({ post, decision: engine.decide(post, { now: at }) }));
      const { newMatches } = await t.repos.ingest.storeBatch(accountId, items, undefined, at);
      for (const m of newMatches) out.set(`${m.platform}:${m.postId}`, m);
    }
    return posts.flatMap((p) => {
      const m = out.get(`${p.platform}:${p.id}`);
      return m ? [m] : [];
    });
  };
  return {
    account,
    mastodonAccount,
    engine,
    store,
    async match(text, extra = {}, at) {
      const [m] = await store([makePost(text, extra)], at ? { at } : {});
      if (m === undefined) throw new Error(`"${text}" did not match`);
      return m;
    },
  };
}

/** Every `/inbox/<uuid>` link of a page, in order, without repeats. */
export function matchIdsOf(page: string): string[] {
  const ids = [...page.matchAll(/href="\/inbox\/([0-9a-f-]{36})"/gu)].map((m) => m[1] as string);
  return [...new Set(ids)];
}

/** The error shown next to a field (`fieldError`), if any. */
export function errorAt(page: string, field: string): string | undefined {
  const re = new RegExp(
    `<div class="error" role="alert" data-field="${field.replace(/[.[\]]/gu, '\\$&')}">([^<]*)</div>`,
    'u',
  );
  return re.exec(page)?.[1];
}

/** HTML-unescaped text of a page fragment (enough for assertions on messages). */
export const unescapeHtml = (s: string) =>
  s
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
