import type { Random } from './random.ts';

/** Someone who posts: a handle, a display name, an audience. */
export interface GeneratedAuthor {
  readonly handle: string;
  readonly name: string;
  readonly id: string;
  readonly followers: number;
  readonly protected: boolean;
  /** The language the person usually writes in. */
  readonly lang: 'ja' | 'en';
}

const JA_HANDLE_PARTS = [
  'yuki',
  'haru',
  'mochi',
  'neko',
  'sora',
  'riku',
  'hina',
  'kaede',
  'tama',
  'pon',
  'kuma',
  'momo',
  'aki',
  'natsu',
  'fuyu',
  'mika',
  'ken',
  'taro',
  'hana',
  'rin',
  'mio',
  'shun',
  'tomo',
  'nana',
  'saku',
  'koharu',
  'usagi',
  'maru',
  'chibi',
  'nemu',
  'kotori',
  'mugi',
  'azuki',
  'kinako',
  'yuzu',
  'sake',
  'ramen',
  'onigiri',
  'hoshi',
  'tsuki',
  'kaze',
  'umi',
  'yama',
  'tanuki',
  'kitsune',
  'panda',
  'hiyoko',
  'piyo',
  'dango',
  'miso',
];
const JA_HANDLE_TAILS = [
  '',
  '',
  '',
  '_',
  '0412',
  '88',
  '2024',
  '_jp',
  '_dev',
  '_books',
  'chan',
  '_tw',
  '3',
  '_07',
  'kun',
  '_life',
  '_ssw',
  '_mama',
  '_papa',
  '_eng',
  '__',
  '_o',
  '1993',
  '_sub',
  '_yomu',
];
const EN_HANDLE_PARTS = [
  'alex',
  'sam',
  'jordan',
  'taylor',
  'casey',
  'mike',
  'jess',
  'chris',
  'em',
  'kate',
  'dan',
  'nina',
  'leo',
  'maya',
  'ben',
  'zoe',
  'riley',
  'quinn',
  'noah',
  'ava',
  'liam',
  'ella',
  'max',
  'ruby',
  'owen',
  'ivy',
  'jake',
  'lucy',
  'theo',
  'mia',
  'coffee',
  'pixel',
  'null',
  'byte',
  'rusty',
  'cloud',
  'maple',
  'fern',
];
const EN_HANDLE_TAILS = [
  '',
  '',
  '',
  '_',
  'dev',
  'codes',
  'reads',
  'writes',
  '92',
  'xo',
  '_irl',
  'tweets',
  'b',
  'hq',
  '_',
  '2k',
  'makes',
  'does',
  'lol',
  'v2',
  '_real',
  'ok',
  'jr',
  '84',
];

const JA_NAMES = [
  'ゆき',
  'はる',
  'もち',
  'みかん',
  'たまご',
  'くま',
  'さくら',
  'ぽん太',
  'りんご',
  'しろくま',
  'ねこ好き',
  '眠い人',
  'こはる',
  'ハル',
  'ユウ',
  'ぴよ',
  'マル',
  'たぬき',
  '佐藤',
  '田中 ひろし',
  '鈴木',
  'なつみ',
  'あきら',
  'かえで',
  'ミナ',
  'そら豆',
  '会社員A',
  '通りすがりの主婦',
  'おもち',
  'ぽてと',
  'もぐもぐ',
  'ぬこ',
  'よもぎ',
  'きなこ',
  'なな',
  'Haru',
  'Yuki',
  'タカシ',
  '山田',
  'ちゃんみお',
];
const JA_DECOR = [
  '🌸',
  '☕',
  '📚',
  '🐈',
  '✨',
  '🍣',
  '💤',
  '🔰',
  '🌙',
  '🍙',
  '🐾',
  '🎧',
  '🍵',
  '@在宅勤務',
  '｜本の虫',
  '@低浮上',
  '(社畜)',
  '＠育休中',
  '｜エンジニア',
  '🐶',
  '⚽️',
  '@ダイエット中',
  '｜読書垢',
  '@ゲーム垢',
  '｜ゆるく生きる',
  '🍺',
  '🏃‍♀️',
];
const JA_LONG = [
  '｜本と猫と珈琲',
  '｜無言フォロー失礼します🙇‍♀️',
  '｜固ツイ見てね',
  '｜2児の母',
  '｜趣味垢',
  '｜日常と愚痴',
  '｜雑多垢',
  '@冬コミ2日目東ア-12b',
];
const EN_FIRST = [
  'Alex',
  'Sam',
  'Jordan',
  'Taylor',
  'Casey',
  'Mike',
  'Jess',
  'Chris',
  'Emma',
  'Kate',
  'Dan',
  'Nina',
  'Leo',
  'Maya',
  'Ben',
  'Zoe',
  'Riley',
  'Quinn',
  'Noah',
  'Ava',
  'Liam',
  'Ella',
  'Max',
  'Ruby',
  'Owen',
  'Ivy',
  'Priya',
  'Tomás',
  'Chloé',
  'Björn',
];
const EN_LAST = [
  '',
  '',
  '',
  ' M.',
  ' Chen',
  ' Park',
  ' Smith',
  " O'Brien",
  ' Rivera',
  ' K',
  ' Nguyen',
  ' Lee',
];
const EN_DECOR = [
  ' 🌵',
  ' | coffee & code',
  ' (she/her)',
  ' (he/him)',
  ' 📚',
  ' ☕',
  ' 🏳️‍🌈',
  ' ✈️',
  ' | dad of 2',
  ' 🇯🇵',
  ' the builder',
  ' 🎮',
  ' | opinions my own',
  ' 🐕',
];
const EN_LONG = [
  ' | reading 52 books in 2025 📚',
  ' | product designer, plant parent, bad at replying',
  ' | views are my own, typos too',
];

/** Display names and handles that try to ping everyone when a bot echoes them. */
const HOSTILE: readonly (readonly [string, string])[] = [
  ['everyone', '@everyone'],
  ['here', 'hi @here 👋'],
  ['channel_bot', '<!channel> free stuff'],
  ['mention_test', '@everyone @here read this'],
];

/** Followers: most people have a few hundred, a few have tens of thousands (Pareto). */
function followerCount(random: Random): number {
  const u = 1 - random.next();
  return Math.min(3_000_000, Math.floor(28 * u ** (-1 / 0.9)) - 20 + random.int(10));
}

function jaHandle(random: Random): string {
  const a = random.pick(JA_HANDLE_PARTS);
  const b = random.chance(0.35) ? `_${random.pick(JA_HANDLE_PARTS)}` : '';
  return `${a}${b}${random.pick(JA_HANDLE_TAILS)}`;
}

function enHandle(random: Random): string {
  const a = random.pick(EN_HANDLE_PARTS);
  const b = random.chance(0.3) ? random.pick(EN_HANDLE_PARTS) : '';
  const handle = `${a}${b}${random.pick(EN_HANDLE_TAILS)}`;
  return random.chance(0.1) ? handle.toUpperCase().slice(0, 1) + handle.slice(1) : handle;
}

function jaName(random: Random): string {
  let name = random.pick(JA_NAMES);
  if (random.chance(0.6)) name += random.pick(JA_DECOR);
  if (random.chance(0.15)) name += random.pick(JA_DECOR);
  if (random.chance(0.07)) name += random.pick(JA_LONG) + random.pick(JA_LONG) + random.pick(JA_DECOR);
  return name;
}

function enName(random: Random): string {
  if (random.chance(0.1)) return random.pick(EN_HANDLE_PARTS);
  let name = random.pick(EN_FIRST) + random.pick(EN_LAST);
  if (random.chance(0.4)) name += random.pick(EN_DECOR);
  if (random.chance(0.05)) name += random.pick(EN_LONG);
  return name;
}

/** Digits that look like an X user id (numeric strings), stable for a seed. */
function userId(random: Random): string {
  return `${random.between(1, 17)}${String(random.int(1e9)).padStart(9, '0')}${String(random.int(1e6)).padStart(6, '0')}`;
}

/**
 * A pool of `count` plausible people: Japanese and English, some with emoji or very long display names,
 * a few hostile ones, a few protected accounts, heavy-tailed follower counts. `exclude` keeps handles
 * (our official accounts) out of the pool.
 */
export function createAuthorPool(
  random: Random,
  count: number,
  japaneseShare: number,
  exclude: readonly string[] = [],
): GeneratedAuthor[] {
  const taken = new Set(exclude.map((h) => h.toLowerCase()));
  const authors: GeneratedAuthor[] = [];
  const unique = (handle: string): string => {
    let h = handle.slice(0, 15);
    for (let n = 2; taken.has(h.toLowerCase()); n++) h = `${handle.slice(0, 13)}${n}`.slice(0, 15);
    taken.add(h.toLowerCase());
    return h;
  };
  const hostileCount = count >= 40 ? HOSTILE.length : 0;
  for (let i = 0; i < count - hostileCount; i++) {
    const lang = random.chance(japaneseShare) ? 'ja' : 'en';
    const handle = unique(lang === 'ja' ? jaHandle(random) : enHandle(random));
    const name = lang === 'ja' ? jaName(random) : enName(random);
    // One in a hundred is an influencer, whatever the Pareto draw said, so small pools have one too.
    const followers = i % 100 === 7 ? random.between(10_001, 400_000) : followerCount(random);
    authors.push({ handle, name, id: userId(random), followers, protected: random.chance(0.03), lang });
  }
  for (const [handle, name] of HOSTILE.slice(0, hostileCount)) {
    const at = random.int(authors.length + 1);
    authors.splice(at, 0, {
      handle: unique(handle),
      name,
      id: userId(random),
      followers: followerCount(random),
      protected: false,
      lang: random.chance(japaneseShare) ? 'ja' : 'en',
    });
  }
  return authors;
}
