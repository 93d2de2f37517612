import { fillText, type Text, type TextVars } from '@kikimimi/runtime';
import type { Context } from 'hono';
import type { AppEnv, Lang } from './context.ts';

/**
 * Messages in both languages (the one i18n system, @kikimimi/runtime). Each feature registers its own,
 * keys prefixed by feature (`inbox.title`).
 */
export type Messages = Record<string, Text>;

const registry = new Map<string, Text>();

/** Adds a feature's messages (at module load). A key registered twice is a programming error. */
export function addMessages(messages: Messages): void {
  for (const [key, value] of Object.entries(messages)) {
    if (registry.has(key) && registry.get(key)?.ja !== value.ja)
      throw new Error(`i18n key registered twice: ${key}`);
    registry.set(key, value);
  }
}

/** Every registered message (for the catalogue checks in the tests). */
export function allMessages(): ReadonlyMap<string, { readonly ja: string; readonly en: string }> {
  return registry;
}

/** The message for `key` in the request's language, `{name}` placeholders filled from `vars`. */
export function t(c: Context<AppEnv> | Lang, key: string, vars: TextVars = {}): string {
  const lang = typeof c === 'string' ? c : c.get('lang');
  const entry = registry.get(key);
  return fillText(entry === undefined ? key : entry[lang], vars);
}

/** The language: ?lang=, then the `lang` cookie, then Accept-Language; Japanese by default. */
export function detectLang(
  query: string | undefined,
  cookie: string | undefined,
  acceptLanguage: string | undefined,
): Lang {
  for (const candidate of [query, cookie]) {
    if (candidate === 'ja' || candidate === 'en') return candidate;
  }
  if (acceptLanguage) {
    const first = acceptLanguage
      .split(',')
      .map((part) => {
        const [tag, q] = part.trim().split(';q=');
        return { tag: (tag ?? '').toLowerCase(), q: q === undefined ? 1 : Number(q) };
      })
      .sort((a, b) => b.q - a.q)
      .find((entry) => entry.tag.startsWith('ja') || entry.tag.startsWith('en'));
    if (first) return first.tag.startsWith('en') ? 'en' : 'ja';
  }
  return 'ja';
}
