import type { Lang } from './context.ts';
import { t } from './i18n.ts';

/*
 * The rules explain their decisions in English sentences, stored with each decision (escalation reasons,
 * suppression details). The console shows them in the reader's language: the known sentences are
 * rewritten here; in Japanese an unknown one is left out rather than shown in English.
 */

type Rewrite = readonly [RegExp, (m: RegExpExecArray, lang: Lang) => string];

const platformName = (p: string) => (p === 'x' ? 'X' : p === 'mastodon' ? 'Mastodon' : p);

/** "5 h ago", "12 min ago", "less than a minute ago" (the rules' `formatAgo`) in Japanese. */
function jaAgo(text: string): string {
  if (text === 'less than a minute ago') return '1 分以内';
  return text.replace(/^(\d+) h ago$/u, '$1 時間前').replace(/^(\d+) min ago$/u, '$1 分前');
}
const AGO = '(less than a minute ago|\\d+ h ago|\\d+ min ago)';

const ESCALATION_JA: readonly Rewrite[] = [
  [/^query matched$/u, () => 'クエリに一致'],
  [/^watch (.+)$/u, (m) => `ウォッチ ${m[1]}`],
  [/^intent (\w+)$/u, (m) => `意図: ${t('ja', `inbox.intent.${m[1]}`)}`],
  [/^platform (\w+)$/u, (m) => `プラットフォーム: ${platformName(m[1] ?? '')}`],
  [/^(\d+) followers ≥ (\d+)$/u, (m) => `フォロワー ${m[1]} 人（${m[2]} 人以上）`],
  [/^(\d+) followers ≤ (\d+)$/u, (m) => `フォロワー ${m[1]} 人（${m[2]} 人以下）`],
];

const SUPPRESSION_JA: readonly Rewrite[] = [
  [
    /^(@\S+) is our own account on (\w+)$/u,
    (m) => `${m[1]} は ${platformName(m[2] ?? '')} の自社アカウントです`,
  ],
  [
    /^(@\S+) on (\w+) asked not to be contacted(?: \((.*)\))?$/u,
    (m) => `${m[1]}（${platformName(m[2] ?? '')}）から連絡不要の申し出があります${m[3] ? `（${m[3]}）` : ''}`,
  ],
  [
    /^a repost of (@\S+)'s post \("RT @\S+"\); reposts are not answered$/u,
    (m) => `${m[1]} の投稿の再投稿（RT）です。再投稿には返信しません`,
  ],
  [/^a repost of (\S+); reposts are not answered$/u, (m) => `${m[1]} の再投稿です。再投稿には返信しません`],
  [
    new RegExp(`^posted ${AGO} \\(max age (\\d+) h\\)$`, 'u'),
    (m) => `${jaAgo(m[1] ?? '')}の投稿です（対象は ${m[2]} 時間以内）`,
  ],
  [
    new RegExp(
      `^replied to (@\\S+) on (\\w+) ${AGO}(, a linked account|, same handle on another platform)? \\(cooldown (\\d+) h\\)$`,
      'u',
    ),
    (m) =>
      `${jaAgo(m[3] ?? '')}に ${m[1]}（${platformName(m[2] ?? '')}${
        m[4] === ', a linked account' ? '、紐づけたアカウント' : m[4] ? '、別プラットフォームの同じ名前' : ''
      }）に返信しています（間隔 ${m[5]} 時間）`,
  ],
  [
    /^(\d+) of (\d+) replies on (\w+) sent today \(daily cap\)$/u,
    (m) => `${platformName(m[3] ?? '')} の今日の返信 ${m[1]} 件（上限 ${m[2]} 件）`,
  ],
];

function rewrite(lang: Lang, text: string, rules: readonly Rewrite[]): string {
  if (lang === 'en') return text;
  for (const [pattern, say] of rules) {
    const m = pattern.exec(text);
    if (m) return say(m, lang);
  }
  return '';
}

/** Why an escalation rule fired ("query matched", "intent trouble", …), in `lang`. */
export const escalationReasonText = (lang: Lang, reason: string): string =>
  rewrite(lang, reason, ESCALATION_JA);

/** The sentence explaining a suppression ("@x is our own account on x", …), in `lang`. */
export const suppressionDetailText = (lang: Lang, detail: string): string =>
  rewrite(lang, detail, SUPPRESSION_JA);
