import type { Platform } from '@kikimimi/rules';

/*
 * What comes from the outside world (platforms, Discord members) before it goes into a Discord
 * message: links only to the platform's own pages, text that neither pings nor reads as a mention.
 */

/** Hosts that serve X's post pages. */
const X_HOSTS: ReadonlySet<string> = new Set([
  'x.com',
  'www.x.com',
  'mobile.x.com',
  'twitter.com',
  'www.twitter.com',
  'mobile.twitter.com',
]);

/**
 * `url` when it is an https address on `platform`'s own host, else null (no link is better than a
 * `javascript:` one or a lure elsewhere). X: x.com / twitter.com. Bluesky: bsky.app (the connector
 * builds its URLs there). Mastodon: when `authorHandle` is
 * given, the author's instance (`user@host` → host; a local `user` → a `/@user` page), since a remote
 * server chooses its posts' URLs and may only point at itself.
 */
export function safeLinkUrl(
  url: string | null | undefined,
  platform: Platform,
  authorHandle?: string,
): string | null {
  if (typeof url !== 'string' || url.length > 2048) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') return null;
  const host = parsed.hostname.toLowerCase();
  if (platform === 'x') return X_HOSTS.has(host) ? parsed.href : null;
  if (platform === 'bluesky') return host === 'bsky.app' ? parsed.href : null;
  if (authorHandle === undefined) return parsed.href;
  const [user = '', domain] = authorHandle.replace(/^@/u, '').toLowerCase().split('@');
  if (domain !== undefined) return host === domain ? parsed.href : null;
  return user !== '' && parsed.pathname.toLowerCase().startsWith(`/@${user}/`) ? parsed.href : null;
}

/** Text from outside shown in a message or embed: no markdown, link or mention tricks. */
export function quote(text: string): string {
  return text.replace(/[\\`*_~|>[\]()]/gu, (c) => `\\${c}`).replace(/@/gu, '@\u200b');
}

/**
 * A person's display name (a Discord member's, a platform author's) shown in a message: on one line,
 * at most 80 characters, escaped like post text, and with `<` broken so that `<@id>`, `<@&id>`,
 * `<#id>` or `<t:…>` written into a name never renders as a mention, a channel or a time.
 */
export function escapeDisplayName(name: string): string {
  const oneLine = name.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').trim();
  const clipped = [...oneLine].length <= 80 ? oneLine : `${[...oneLine].slice(0, 79).join('')}…`;
  return quote(clipped).replace(/</gu, '<\u200b');
}
