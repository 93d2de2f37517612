import { readFile } from 'node:fs/promises';
import type { PlatformAccount } from '@kikimimi/db';
import { BLUESKY_MAX_GRAPHEMES, type Config, type Platform } from '@kikimimi/rules';
import {
  type BlueskySandbox,
  blueskyHandleFor,
  createPostGenerator,
  demoBrand,
  type GeneratedPost,
  type MastodonSandbox,
  runGenerator,
  type SandboxPostInput,
  startBlueskySandbox,
  startMastodonSandbox,
  startXSandbox,
  type XSandbox,
} from '@kikimimi/sandbox';
import type { DemoContext, DemoWorld } from '@kikimimi/worker';

/** When the demo world runs: `auto` for each platform without a real account, `on` always, `off` never. */
export type DemoMode = 'auto' | 'on' | 'off';

const EXAMPLE_CONFIG = new URL('../../../../docs/examples/shiori-note.json', import.meta.url);
const SYSTEM = { kind: 'system', id: 'demo', name: 'demo world' } as const;
const PLATFORMS: readonly Platform[] = ['x', 'mastodon', 'bluesky'];

/**
 * No configuration to speak of yet: none saved, or only the organisation's facts (the setup saves the
 * first admin's time zone) — nothing to listen for, answer with or escalate.
 */
export function nothingConfigured(current: { version: number; config: Config }): boolean {
  const { watches, templates, escalation } = current.config;
  return current.version === 0 || (watches.length === 0 && templates.length === 0 && escalation.length === 0);
}

/** Platforms that get the demo world: none with a real (non-demo, enabled) account, or all when `on`. */
export function demoPlatforms(accounts: readonly PlatformAccount[], mode: DemoMode): Platform[] {
  if (mode === 'off') return [];
  if (mode === 'on') return [...PLATFORMS];
  return PLATFORMS.filter((p) => !accounts.some((a) => a.platform === p && !a.demo && a.enabled));
}

/**
 * The demo world a newcomer starts with: stand-in X, Mastodon and Bluesky inside the worker, fed by the post
 * generator (Japanese and English praise, complaints, trouble, questions, noise about the fictional
 * しおりノート), demo accounts pointing at them, and — if no configuration was ever saved — the example
 * configuration. Connecting a real account turns the demo off for that platform (its demo account is
 * disabled at the next start or configuration change). Runs until the signal aborts.
 */
export function createDemoWorld(options: DemoWorldOptions): DemoWorld {
  return (context) => runDemoWorld(context, options);
}

export interface DemoWorldOptions {
  readonly mode: DemoMode;
  /** Generated posts a minute. */
  readonly perMinute: number;
  /** For tests: how the demo customers answer (see answerOurReplies; default 20–90 s, three in four). */
  readonly answers?: Pick<AnswerOptions, 'delayMs' | 'random' | 'everyMs'>;
}

async function runDemoWorld(context: DemoContext, options: DemoWorldOptions): Promise<void> {
  const { store, log } = context;
  const accounts = await store.accounts.list();
  const platforms = demoPlatforms(accounts, options.mode);
  for (const account of accounts) {
    if (account.demo && account.enabled && !platforms.includes(account.platform)) {
      await store.accounts.update(account.id, { enabled: false }, SYSTEM);
      log.info(
        { platform: account.platform },
        'a real account is connected: the demo world is off for this platform',
      );
    }
  }
  if (platforms.length === 0) return;

  const current = await store.config.current();
  if (nothingConfigured(current)) {
    const example = JSON.parse(await readFile(EXAMPLE_CONFIG, 'utf8')) as Record<string, unknown>;
    // The setup may have saved the organisation's time zone already: it is kept.
    const saved = await store.config.replace(
      { ...example, organization: current.config.organization },
      SYSTEM,
    );
    if (saved.ok) log.info('no configuration yet: loaded the example configuration (しおりノート)');
    else log.warn({ problems: saved.problems }, 'the example configuration did not load');
  }

  const x = platforms.includes('x')
    ? await startXSandbox({ rateLimit: { limit: 100_000, windowSeconds: 900 } })
    : null;
  const mastodon = platforms.includes('mastodon') ? await startMastodonSandbox() : null;
  const bluesky = platforms.includes('bluesky') ? await startBlueskySandbox() : null;
  try {
    if (x)
      await upsertDemoAccount(context, accounts, 'x', x.url, { kind: 'oauth2', accessToken: x.bearerToken });
    if (mastodon)
      await upsertDemoAccount(context, accounts, 'mastodon', mastodon.url, {
        accessToken: mastodon.accessToken,
      });
    // The stand-in is the account's PDS. It has no firehose: the demo listens to Bluesky by search, and
    // its streaming address is the stand-in too, so ticking "Streaming" on the demo account never
    // reaches the real network's relay (the stand-in refuses the subscription).
    if (bluesky)
      await upsertDemoAccount(
        context,
        accounts,
        'bluesky',
        bluesky.url,
        { identifier: bluesky.account.handle, appPassword: bluesky.appPassword },
        { streamingUrl: bluesky.url },
      );
    await context.onReady();
    log.info(
      { platforms, perMinute: options.perMinute },
      'demo world running: stand-in platforms fed by the post generator',
    );

    const generator = createPostGenerator({ seed: Date.now() % 2 ** 31, brands: [demoBrand] });
    const placed = new Map<string, { platform: Platform; id: string }>();
    const authors = new Map<string, SandboxPostInput>();
    const answering = answerOurReplies({
      x,
      mastodon,
      bluesky,
      authors,
      signal: context.signal,
      ...options.answers,
    });
    await runGenerator({
      generator,
      perMinute: options.perMinute,
      burst: 15,
      signal: context.signal,
      emit: (post) => {
        const placement = placeDemoPost(post, platforms, placed);
        if (placement === null) return;
        const id =
          placement.platform === 'x'
            ? (x as XSandbox).addPost(placement.input)
            : placement.platform === 'mastodon'
              ? (mastodon as MastodonSandbox).addPost(placement.input)
              : (bluesky as BlueskySandbox).addPost(placement.input);
        placed.set(post.ref, { platform: placement.platform, id });
        authors.set(`${placement.platform}:${id}`, placement.input);
      },
    });
    await answering;
  } finally {
    await Promise.allSettled([x?.close(), mastodon?.close(), bluesky?.close()]);
  }
}

/**
 * Where the demo world puts a generated post, and as what: the platforms take turns; a repost of a
 * post placed on the same platform is a native repost (`repostOf`; on Bluesky a repost record, which
 * no search lists), otherwise it stays an "RT @…" text; Mastodon posts carry the brand's hashtag;
 * Bluesky posts are by and mention Bluesky handles (`shiorinote_jp` → `shiorinote-jp.bsky.social`) and
 * fit in 300 graphemes. `placed` maps refs of posts already placed to their ids.
 */
export function placeDemoPost(
  post: GeneratedPost,
  platforms: readonly Platform[],
  placed: ReadonlyMap<string, { platform: Platform; id: string }>,
): { platform: Platform; input: SandboxPostInput } | null {
  const platform = pickPlatform(post, platforms);
  if (platform === null) return null;
  const { repostOfRef, ...rest } = post;
  const original = repostOfRef === undefined ? undefined : placed.get(repostOfRef);
  const input = original && original.platform === platform ? { ...rest, repostOf: original.id } : rest;
  if (platform === 'mastodon') return { platform, input: withBrandTag(input) };
  if (platform === 'bluesky') return { platform, input: onBluesky(input, post.kind === 'repost') };
  return { platform, input };
}

/** Turn by turn, by the post's number in the generator's order ('g42' → 42). */
function pickPlatform(post: GeneratedPost, platforms: readonly Platform[]): Platform | null {
  const available = PLATFORMS.filter((p) => platforms.includes(p));
  if (available.length === 0) return null;
  const n = Number.parseInt(post.ref.replace(/\D/gu, ''), 10);
  return available[(Number.isNaN(n) ? post.ref.length : n) % available.length] ?? null;
}

// @name as X and Mastodon write a local name (not @name.domain, not @name@instance).
const MENTION = /(^|[^\p{L}\p{N}_/])[@＠]([A-Za-z0-9_]+)(?![@\w-]|\.\w)/gu;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * A post as written on Bluesky: the author's and the mentioned people's Bluesky handles (a text
 * repost keeps the name it quotes, as cross-posting tools copy it), at most 300 graphemes.
 */
function onBluesky<T extends Omit<GeneratedPost, 'repostOfRef'>>(post: T, textRepost: boolean): T {
  const text = textRepost
    ? post.text
    : post.text.replace(
        MENTION,
        (_all, before: string, name: string) => `${before}@${blueskyHandleFor(name)}`,
      );
  const parts = [...graphemes.segment(text)];
  return {
    ...post,
    author: { ...post.author, handle: blueskyHandleFor(post.author.handle) },
    text:
      parts.length <= BLUESKY_MAX_GRAPHEMES
        ? text
        : `${parts
            .slice(0, BLUESKY_MAX_GRAPHEMES - 1)
            .map((p) => p.segment)
            .join('')}…`,
    ...(post.mentions === undefined ? {} : { mentions: post.mentions.map((m) => blueskyHandleFor(m)) }),
  };
}

/** Mastodon is listened to through hashtags: brand posts carry the brand's tag, as people do there. */
function withBrandTag<T extends Omit<GeneratedPost, 'repostOfRef'>>(post: T): T {
  if (post.brand === undefined || post.text.includes('#')) return post;
  const tag = post.brand.replace(/\s+/gu, '');
  return { ...post, text: `${post.text} #${tag}`, hashtags: [...(post.hashtags ?? []), tag] };
}

async function upsertDemoAccount(
  context: DemoContext,
  accounts: readonly PlatformAccount[],
  platform: Platform,
  baseUrl: string,
  credentials: unknown,
  extra: { streamingUrl?: string } = {},
): Promise<void> {
  const existing = accounts.find((a) => a.demo && a.platform === platform);
  const settings = { baseUrl, credentials, enabled: true, pollIntervalSeconds: 5, demo: true, ...extra };
  if (existing) await context.store.accounts.update(existing.id, settings, SYSTEM);
  else await context.store.accounts.create({ platform, label: `demo-${platform}`, ...settings }, SYSTEM);
}

/** What demo customers write back to the brand's replies (most thank it; some are not helped yet). */
const DEMO_ANSWERS: Readonly<Record<'ja' | 'en', readonly string[]>> = {
  ja: [
    'わざわざ対応そして返信頂きありがとうございます！',
    'ご丁寧にありがとうございます、解決しました🙏',
    '返信ありがとうございます。試してみます！',
    'ありがとうございます。でもまだ直りません…',
    '確認しましたが、同じエラーが出ます。',
    'ありがとうございます！ちなみに機種変更したらデータは引き継げますか？',
  ],
  en: [
    'Thank you so much for getting back to me!',
    'That fixed it, thanks!',
    "Thanks, but it's still not working for me.",
    'Thanks! Also, is there a way to export my shelf?',
  ],
};

/** The stand-ins whose replies are answered, who wrote what we replied to, and the pace. */
export interface AnswerOptions {
  x: XSandbox | null;
  mastodon: MastodonSandbox | null;
  bluesky?: BlueskySandbox | null;
  authors: ReadonlyMap<string, SandboxPostInput>;
  signal: AbortSignal;
  /** For tests: the wait before an answer (default 20–90 s), the dice, how often replies are looked for. */
  delayMs?: () => number;
  random?: () => number;
  everyMs?: number;
}

/**
 * The demo's customers follow the conversation too: a while after the brand replies to one of their
 * posts (20–90 s), most of them answer it — thanks, "still broken" or a new question — so the demo
 * shows cases, threads and follow-ups. One answer per reply; stops with the signal.
 */
export async function answerOurReplies(options: AnswerOptions): Promise<void> {
  const random = options.random ?? Math.random;
  const delayMs = options.delayMs ?? (() => 20_000 + random() * 70_000);
  const seen = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const sandboxes = [
    ['x', options.x],
    ['mastodon', options.mastodon],
    ['bluesky', options.bluesky ?? null],
  ] as const;
  while (!options.signal.aborted) {
    for (const [platform, sandbox] of sandboxes) {
      if (sandbox === null) continue;
      for (const reply of sandbox.replies()) {
        const key = `${platform}:${reply.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const author = options.authors.get(`${platform}:${reply.inReplyTo}`);
        // Three in four answer; the rest never do (their case is resolved when the window ends).
        if (author === undefined || random() < 0.25) continue;
        const lang = author.lang === 'en' ? 'en' : 'ja';
        const texts = DEMO_ANSWERS[lang];
        const text = texts[Math.floor(random() * texts.length)] ?? texts[0] ?? '';
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (options.signal.aborted) return;
          const input = { text, author: author.author, lang };
          try {
            // On Bluesky a reply to our reply notifies us as a reply (clients put no @mention in front).
            if (platform === 'x') (sandbox as XSandbox).addReply(reply.id, input);
            else if (platform === 'mastodon') (sandbox as MastodonSandbox).addReply(reply.id, input);
            else (sandbox as BlueskySandbox).addReply(reply.id, input);
          } catch {
            // The stand-in closed meanwhile (the demo is stopping): nothing to answer any more.
          }
        }, delayMs());
        timers.add(timer);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 2_000));
  }
  for (const timer of timers) clearTimeout(timer);
}
