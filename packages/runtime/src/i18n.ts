/*
 * The one i18n system of kikimimi: every text a person reads — console pages, Discord messages, the
 * desk's refusals — is a `{ ja, en }` pair in a catalogue, looked up by key in the reader's language,
 * with `{name}` placeholders filled the same way everywhere.
 */

/** The languages kikimimi speaks. */
export type Lang = 'ja' | 'en';
export const LANGS: readonly Lang[] = ['ja', 'en'];

/** One text in both languages. */
export interface Text {
  readonly ja: string;
  readonly en: string;
}

/** Values for a text's `{name}` placeholders. */
export type TextVars = Readonly<Record<string, string | number>>;

/** Fills `{name}` placeholders from `vars`; a placeholder without a value stays as written. */
export function fillText(text: string, vars: TextVars = {}): string {
  if (!text.includes('{')) return text;
  return text.replace(/\{(\w+)\}/gu, (whole, name: string) =>
    Object.hasOwn(vars, name) ? String(vars[name]) : whole,
  );
}

/** A translator over one catalogue: its keys are checked by the compiler. */
export type Translator<K extends string> = (lang: Lang, key: K, vars?: TextVars) => string;

export function createTranslator<K extends string>(catalogue: Readonly<Record<K, Text>>): Translator<K> {
  return (lang, key, vars) => fillText(catalogue[key][lang], vars);
}

/** The language of a locale tag (`ja`, `ja-JP` → ja; any other → en); `fallback` when there is none. */
export function langOfLocale(locale: string | null | undefined, fallback: Lang): Lang {
  if (locale == null || locale === '') return fallback;
  return locale.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}
