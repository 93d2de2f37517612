import type { Platform } from './post.ts';

/**
 * What a platform accepts as an account name. Handles come from outside (platform responses); a
 * string that is not one ("victim1 @bystander@mastodon.social", HTML) must never become a mention.
 */

// X: 1–15 letters, digits and underscores.
const X_USERNAME = /^[A-Za-z0-9_]{1,15}$/u;
// Mastodon's Account::USERNAME_RE: word characters, with dots and dashes only inside.
const MASTODON_USERNAME = /^[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?$/iu;
// atproto's handle syntax: a DNS name of at least two ASCII labels, the last not starting with a digit
// ("alice.bsky.social", "example.com"), at most 253 characters.
const BLUESKY_HANDLE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/u;
// A host name with at least two labels; labels of letters (any script: IDN domains arrive in Unicode
// too), digits and inner hyphens, at most 63 characters each.
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

function isDomain(domain: string): boolean {
  if (domain.length > 253) return false;
  const labels = domain.split('.');
  return labels.length >= 2 && labels.every((label) => DOMAIN_LABEL.test(label));
}

/** True when `handle` (without a leading @) is a valid account name on `platform`. */
export function isValidHandle(platform: Platform, handle: string): boolean {
  switch (platform) {
    case 'x':
      return X_USERNAME.test(handle);
    case 'mastodon': {
      const at = handle.indexOf('@');
      if (at === -1) return handle.length <= 64 && MASTODON_USERNAME.test(handle);
      const user = handle.slice(0, at);
      return user.length <= 64 && MASTODON_USERNAME.test(user) && isDomain(handle.slice(at + 1));
    }
    case 'bluesky':
      return handle.length <= 253 && BLUESKY_HANDLE.test(handle);
  }
}

/** Why `handle` is not a valid account name on `platform` (with the handle quoted and cut), or null. */
export function handleProblem(platform: Platform, handle: string): string | null {
  if (isValidHandle(platform, handle)) return null;
  const shown = JSON.stringify(handle.length > 60 ? `${handle.slice(0, 60)}…` : handle);
  switch (platform) {
    case 'x':
      return `not an X username (1–15 letters, digits, _): ${shown}`;
    case 'mastodon':
      return `not a Mastodon account (user or user@domain): ${shown}`;
    case 'bluesky':
      return `not a Bluesky handle (a domain name such as alice.bsky.social): ${shown}`;
  }
}
