import type { SandboxPostInput } from '../world.ts';
import { createAuthorPool, type GeneratedAuthor } from './authors.ts';
import { type CompiledBrand, compileBrands, type GeneratorBrand } from './brands.ts';
import {
  type ComposeContext,
  type Composition,
  type Decorations,
  decorate,
  expand,
  type GeneratedTrait,
  type Lang,
  markers,
  place,
  randomUrl,
  slotValue,
  TONE,
} from './compose.ts';
import { createRandom } from './random.ts';
import { createNameChecker, weightedLength } from './text.ts';
import type { BrandKind, Tone, Vocabulary } from './vocab.ts';
import { en } from './vocab-en.ts';
import { ja } from './vocab-ja.ts';
import { type OutageVocabulary, outageEn, outageJa } from './vocab-outage.ts';

export type GeneratedKind =
  | 'praise'
  | 'complaint'
  | 'trouble'
  | 'question'
  | 'neutral'
  | 'noise'
  | 'near-miss'
  | 'repost'
  | 'official';

export const GENERATED_KINDS: readonly GeneratedKind[] = [
  'praise',
  'complaint',
  'trouble',
  'question',
  'neutral',
  'noise',
  'near-miss',
  'repost',
  'official',
];

/** Kinds whose text names a brand. */
export const BRAND_KINDS: readonly GeneratedKind[] = [
  'praise',
  'complaint',
  'trouble',
  'question',
  'neutral',
  'repost',
  'official',
];

/** The default mix, as relative weights. */
export const DEFAULT_MIX: Readonly<Record<GeneratedKind, number>> = {
  noise: 35,
  praise: 12,
  complaint: 10,
  trouble: 12,
  question: 10,
  neutral: 8,
  'near-miss': 6,
  repost: 4,
  official: 3,
};

export interface GeneratedPost extends SandboxPostInput {
  /** What the post is, as a person labelling it would say. */
  readonly kind: GeneratedKind;
  readonly lang: 'ja' | 'en';
  /** Stable reference ('g42'): platforms assign ids, this links reposts to what they repost. */
  readonly ref: string;
  /** For reposts: the ref of the reposted post (map it to the platform's id to set repostOf). */
  readonly repostOfRef?: string;
  /** The brand the post is about (its first name); absent for noise and near-misses. */
  readonly brand?: string;
  readonly author: GeneratedAuthor;
  readonly createdAt: Date;
  readonly traits: readonly GeneratedTrait[];
  /** Set on the posts of a scenario (`outageBurst`). */
  readonly scenario?: 'outage';
}

/** An outage: many people saying the same thing about one brand within minutes. */
export interface OutageBurstOptions {
  /** When the first post is written. */
  readonly start: Date;
  /** Posts, default 1,000. */
  readonly count?: number;
  /** Over how long, default 2 minutes. */
  readonly durationMs?: number;
  /** The brand (its first name); default the first brand. */
  readonly brand?: string;
}

export interface PostGeneratorOptions {
  /** Same seed, same posts. Default 1. */
  seed?: number;
  brands: GeneratorBrand[];
  /** Relative weights, merged over DEFAULT_MIX (set a kind to 0 to leave it out). */
  mix?: Partial<Record<GeneratedKind, number>>;
  /** Share of Japanese posts, default 0.65. */
  japanese?: number;
  /** Size of the author pool, default 500. */
  authors?: number;
  now?: () => Date;
}

export interface PostGenerator {
  next(): GeneratedPost;
  take(n: number): GeneratedPost[];
  /** The people who post (official accounts not included). */
  readonly authors: readonly GeneratedAuthor[];
  /** Our official accounts, one per handle. */
  readonly officialAuthors: readonly GeneratedAuthor[];
  /**
   * An outage burst: `count` posts about one brand over `durationMs`, varied wordings of one complaint
   * (ログインできない, "is it down?") with the usual noise (emoji, typos, replies, hashtags,
   * screenshots), their times rising towards the end as word spreads. Kind "trouble", scenario "outage";
   * sorted by time. Uses the generator's random stream: interleave it with `next()` deterministically.
   */
  outageBurst(options: OutageBurstOptions): GeneratedPost[];
}

const VOCAB: Readonly<Record<Lang, Vocabulary>> = { ja, en };
const OUTAGE: Readonly<Record<Lang, OutageVocabulary>> = { ja: outageJa, en: outageEn };

/** How people dress a post of each kind (probabilities). */
const DECOR: Readonly<Record<BrandKind | 'noise' | 'near-miss', Decorations>> = {
  praise: {
    opener: 0.2,
    feeling: 0.35,
    ending: 0.45,
    emoji: 0.4,
    typo: 0.06,
    reply: 0.08,
    hashtag: 0.1,
    url: 0.04,
    urlPurpose: 'link',
  },
  complaint: {
    opener: 0.25,
    feeling: 0.35,
    ending: 0.45,
    emoji: 0.3,
    typo: 0.07,
    reply: 0.08,
    hashtag: 0.06,
    url: 0.03,
    urlPurpose: 'media',
  },
  trouble: {
    opener: 0.25,
    feeling: 0.45,
    ending: 0.4,
    emoji: 0.3,
    typo: 0.08,
    reply: 0.06,
    hashtag: 0.08,
    url: 0.1,
    urlPurpose: 'media',
  },
  question: {
    opener: 0.25,
    feeling: 0.3,
    ending: 0.35,
    emoji: 0.2,
    typo: 0.06,
    reply: 0.08,
    hashtag: 0.08,
    url: 0.02,
    urlPurpose: 'link',
  },
  neutral: {
    opener: 0.15,
    feeling: 0.15,
    ending: 0.35,
    emoji: 0.3,
    typo: 0.05,
    reply: 0.06,
    hashtag: 0.12,
    url: 0.15,
    urlPurpose: 'news',
  },
  noise: {
    opener: 0,
    feeling: 0.15,
    ending: 0.45,
    emoji: 0.35,
    typo: 0.06,
    reply: 0.15,
    hashtag: 0.06,
    url: 0.05,
    urlPurpose: 'link',
  },
  'near-miss': {
    opener: 0,
    feeling: 0.1,
    ending: 0.4,
    emoji: 0.3,
    typo: 0.05,
    reply: 0.08,
    hashtag: 0.05,
    url: 0.08,
    urlPurpose: 'link',
  },
};

const MAX_WEIGHTED_LENGTH = 280;
const REPOSTABLE = 300;

/** A deterministic stream of realistic posts about `brands`, mixed with the chatter around them. */
export function createPostGenerator(options: PostGeneratorOptions): PostGenerator {
  const random = createRandom(options.seed ?? 1);
  const now = options.now ?? (() => new Date());
  const japanese = options.japanese ?? 0.65;
  if (!(japanese >= 0 && japanese <= 1))
    throw new Error('createPostGenerator: japanese must be between 0 and 1');
  const authorCount = options.authors ?? 500;
  if (!Number.isInteger(authorCount) || authorCount < 2) {
    throw new Error('createPostGenerator: authors must be an integer of at least 2');
  }
  const brands = compileBrands(options.brands);
  const mentionsAnyBrand = createNameChecker(brands.flatMap((b) => b.names));

  const officialHandles = brands.flatMap((b) => b.officialHandles);
  const authors = createAuthorPool(random, authorCount, japanese, officialHandles);
  const byLang: Record<Lang, GeneratedAuthor[]> = {
    ja: authors.filter((a) => a.lang === 'ja'),
    en: authors.filter((a) => a.lang === 'en'),
  };
  const officialByHandle = new Map<string, GeneratedAuthor>();
  const officialAuthors: GeneratedAuthor[] = [];
  for (const brand of brands) {
    for (const handle of brand.officialHandles) {
      if (officialByHandle.has(handle)) continue;
      const support = /support|help|care/i.test(handle);
      const jaSide = !/_en$|global/i.test(handle);
      const author: GeneratedAuthor = {
        handle,
        name: jaSide
          ? `${brand.displayJa}${support ? 'サポート' : '【公式】'}`
          : `${brand.displayEn} ${support ? 'Support' : ''}`.trim(),
        id: String(1_000_000_000 + random.int(1_000_000_000)),
        followers: random.between(12_000, 350_000),
        protected: false,
        lang: jaSide ? 'ja' : 'en',
      };
      officialByHandle.set(handle, author);
      officialAuthors.push(author);
    }
  }

  const weights = { ...DEFAULT_MIX, ...options.mix };
  for (const kind of GENERATED_KINDS) {
    const w = weights[kind];
    if (!(Number.isFinite(w) && w >= 0))
      throw new Error(`createPostGenerator: mix.${kind} must be a weight >= 0`);
  }
  if (officialAuthors.length === 0) weights.official = 0;
  if (brands.every((b) => b.nearMissesJa.length === 0)) weights['near-miss'] = 0;
  const mix = GENERATED_KINDS.map((k): [GeneratedKind, number] => [k, weights[k]]);
  if (!mix.some(([, w]) => w > 0))
    throw new Error('createPostGenerator: the mix has no kind with a positive weight');
  const mixWithoutRepost = mix.filter(([k]) => k !== 'repost');
  if (!mixWithoutRepost.some(([, w]) => w > 0)) {
    throw new Error('createPostGenerator: reposts need something to repost; give another kind a weight');
  }

  /** Busy people post more: the first authors of each language are the chatty ones. */
  const pickAuthor = (lang: Lang): GeneratedAuthor => {
    const pool = byLang[lang].length > 0 ? byLang[lang] : authors;
    return pool[Math.floor(pool.length * random.next() ** 1.6)] as GeneratedAuthor;
  };
  const otherHandle = (): string => (random.pick(authors) as GeneratedAuthor).handle;

  const repostable: GeneratedPost[] = [];
  let counter = 0;

  const context = (lang: Lang): ComposeContext => ({ random, vocab: VOCAB[lang], lang, otherHandle });

  const featurePicker = (brand: CompiledBrand, lang: Lang) => (): string => {
    const own = lang === 'ja' ? brand.featuresJa : brand.featuresEn;
    const general = lang === 'ja' ? brand.defaultFeaturesJa : brand.defaultFeaturesEn;
    return own.length > 0 && random.chance(0.7) ? random.pick(own) : random.pick(general);
  };

  const brandForm = (brand: CompiledBrand, lang: Lang) => (): string =>
    random.weighted(lang === 'ja' ? brand.formsJa : brand.formsEn);

  const finish = (
    composition: Composition,
    brand: CompiledBrand | null,
    lang: Lang,
    nearMiss: (() => string) | null,
  ): string => {
    let text = composition.text;
    if (brand !== null) {
      const form = brandForm(brand, lang);
      // Most people write the name one way within a post.
      const first = form();
      text = place(text, markers.BRAND, () => (random.chance(0.85) ? first : form()));
    }
    if (nearMiss !== null) {
      const word = nearMiss();
      text = place(text, markers.NEAR, () => word);
    }
    return text;
  };

  const composeBrandPost = (
    kind: BrandKind,
    brand: CompiledBrand,
    lang: Lang,
  ): Composition & { text: string } => {
    const ctx = context(lang);
    const vocab = VOCAB[lang];
    const polite = random.chance(
      lang === 'ja' ? (kind === 'question' || kind === 'trouble' ? 0.35 : 0.25) : 0.2,
    );
    const templates = vocab.brand[kind][polite ? 'polite' : 'casual'];
    const template = random.pick(templates);
    const negated = template.startsWith('~');
    const features = featurePicker(brand, lang);
    const body = expand(
      negated ? template.slice(1) : template,
      (name) => slotValue(ctx, name, features),
      random,
    );
    const d = DECOR[kind];
    const hashtags = brand.hashtagForms;
    const composition = decorate(
      ctx,
      body,
      TONE[kind],
      polite,
      d,
      hashtags.length > 0 ? () => random.pick(hashtags) : null,
    );
    if (negated) composition.traits.push('negated');
    const officials = brand.officialHandles;
    if (kind !== 'neutral' && officials.length > 0 && random.chance(0.12)) {
      const handle = `@${random.pick(officials)}`;
      composition.text =
        composition.traits.includes('reply') || random.chance(0.5)
          ? `${composition.text} ${handle}`
          : `${handle} ${composition.text}`;
      composition.traits.push('mention-official');
    }
    composition.text = finish(composition, brand, lang, null);
    return composition;
  };

  const composeOfficial = (brand: CompiledBrand, lang: Lang): Composition => {
    const ctx = context(lang);
    const features = featurePicker(brand, lang);
    let text = expand(random.pick(VOCAB[lang].official), (name) => slotValue(ctx, name, features), random);
    const traits: GeneratedTrait[] = [];
    // Officials tag with a name as given, not a variant.
    const tags = brand.names.filter((n) => brand.hashtagForms.includes(n));
    if (tags.length > 0 && random.chance(0.3)) {
      text += `${random.chance(0.5) ? '\n' : ' '}#${random.pick(tags)}`;
      traits.push('hashtag');
    }
    if (random.chance(0.6)) {
      text += `\n${randomUrl(random, lang, 'news')}`;
      traits.push('url');
    }
    // Officials write the name the official way.
    const official = lang === 'ja' ? brand.displayJa : brand.displayEn;
    return { text: place(text, markers.BRAND, () => official), traits };
  };

  const composeChatter = (kind: 'noise' | 'near-miss', lang: Lang): Composition | null => {
    const ctx = context(lang);
    const vocab = VOCAB[lang];
    let nearMiss: (() => string) | null = null;
    let template: string;
    if (kind === 'near-miss') {
      const candidates = brands.filter((b) => b.nearMissesJa.length > 0);
      const brand = random.pick(candidates);
      const list = lang === 'ja' ? brand.nearMissesJa : brand.nearMissesEn;
      nearMiss = () => random.weighted(list);
      template = random.pick(vocab.nearMiss);
    } else {
      template = random.pick(vocab.noise);
    }
    const tone: Tone =
      kind === 'near-miss'
        ? 'flat'
        : random.weighted<Tone>([
            ['flat', 7],
            ['pos', 1.5],
            ['neg', 1.5],
          ]);
    const body = expand(
      template,
      (name) => slotValue(ctx, name, () => random.pick(VOCAB[lang].words.THING ?? ['it'])),
      random,
    );
    const composition = decorate(ctx, body, tone, false, DECOR[kind], null);
    composition.text = finish(composition, null, lang, nearMiss);
    return mentionsAnyBrand(composition.text) ? null : composition;
  };

  const pickLang = (): Lang => (random.chance(japanese) ? 'ja' : 'en');

  const makePost = (kind: GeneratedKind): GeneratedPost | null => {
    const ref = `g${counter + 1}`;
    const createdAt = new Date(now().getTime());
    if (kind === 'repost') {
      if (repostable.length === 0) return null;
      // Popular posts get reposted.
      const original = random.weighted(
        repostable.map((p): [GeneratedPost, number] => [p, Math.log10(p.author.followers + 10)]),
      );
      let author = pickAuthor(original.lang);
      for (let i = 0; i < 5 && author.handle === original.author.handle; i++)
        author = pickAuthor(original.lang);
      if (author.handle === original.author.handle) return null;
      return {
        ref,
        kind,
        lang: original.lang,
        text: `RT @${original.author.handle}: ${original.text}`,
        author,
        createdAt,
        repostOfRef: original.ref,
        ...(original.brand === undefined ? {} : { brand: original.brand }),
        traits: [],
      };
    }
    const lang = pickLang();
    if (kind === 'official') {
      const brand = random.pick(brands.filter((b) => b.officialHandles.length > 0));
      const handles = brand.officialHandles;
      const preferred = handles.filter((h) => (officialByHandle.get(h)?.lang ?? lang) === lang);
      const author = officialByHandle.get(
        random.pick(preferred.length > 0 ? preferred : handles),
      ) as GeneratedAuthor;
      const { text, traits } = composeOfficial(brand, lang);
      return { ref, kind, lang, text, author, createdAt, brand: brand.label, traits };
    }
    if (kind === 'noise' || kind === 'near-miss') {
      const composition = composeChatter(kind, lang);
      if (composition === null || weightedLength(composition.text) > MAX_WEIGHTED_LENGTH) return null;
      return {
        ref,
        kind,
        lang,
        text: composition.text,
        author: pickAuthor(lang),
        createdAt,
        traits: composition.traits,
      };
    }
    const brand = random.pick(brands);
    const composition = composeBrandPost(kind, brand, lang);
    if (weightedLength(composition.text) > MAX_WEIGHTED_LENGTH) return null;
    return {
      ref,
      kind,
      lang,
      text: composition.text,
      author: pickAuthor(lang),
      createdAt,
      brand: brand.label,
      traits: composition.traits,
    };
  };

  const next = (): GeneratedPost => {
    let kind = random.weighted(mix);
    for (let attempt = 0; attempt < 50; attempt++) {
      const post = makePost(kind);
      if (post !== null) {
        counter++;
        if (BRAND_KINDS.includes(post.kind) && post.kind !== 'repost' && !post.author.protected) {
          repostable.push(post);
          if (repostable.length > REPOSTABLE) repostable.shift();
        }
        return post;
      }
      // Nothing to repost yet: draw another kind.
      if (kind === 'repost' && repostable.length === 0) kind = random.weighted(mixWithoutRepost);
    }
    // Brand names that collide with everyday words can make chatter impossible to write cleanly.
    counter++;
    return {
      ref: `g${counter}`,
      kind: 'noise',
      lang: 'ja',
      text: random.pick(['☕', '🌙', '🍙', '🐈', '🌧', '☀️']),
      author: pickAuthor('ja'),
      createdAt: new Date(now().getTime()),
      traits: ['emoji'],
    };
  };

  const outageBurst = (burst: OutageBurstOptions): GeneratedPost[] => {
    const count = burst.count ?? 1_000;
    const duration = burst.durationMs ?? 120_000;
    const start = burst.start.getTime();
    if (!Number.isFinite(start)) throw new Error('outageBurst: start is not a valid date');
    if (!(Number.isInteger(count) && count >= 1))
      throw new Error('outageBurst: count must be a whole number >= 1');
    if (!(Number.isFinite(duration) && duration >= 0))
      throw new Error('outageBurst: durationMs must be >= 0');
    const brand =
      burst.brand === undefined
        ? brands[0]
        : brands.find((b) => b.label === burst.brand || b.names.includes(burst.brand ?? ''));
    if (brand === undefined) throw new Error(`outageBurst: no brand named ${JSON.stringify(burst.brand)}`);
    // Word spreads: fewer posts in the first seconds than in the last (density rising with time).
    const offsets = Array.from({ length: count }, () => Math.floor(duration * random.next() ** 0.7));
    offsets.sort((a, b) => a - b);
    return offsets.map((offset): GeneratedPost => {
      const lang = pickLang();
      const ctx = context(lang);
      const tone: Tone = random.chance(0.3) ? 'ask' : 'neg';
      const polite = random.chance(lang === 'ja' ? 0.2 : 0.15);
      const vocab = OUTAGE[lang][tone === 'ask' ? 'ask' : 'neg'];
      const template = random.pick(polite ? vocab.polite : vocab.casual);
      const features = featurePicker(brand, lang);
      const body = expand(template, (name) => slotValue(ctx, name, features), random);
      const hashtags = brand.hashtagForms;
      const composition = decorate(
        ctx,
        body,
        tone,
        polite,
        DECOR.trouble,
        hashtags.length > 0 ? () => random.pick(hashtags) : null,
      );
      composition.text = finish(composition, brand, lang, null);
      counter++;
      return {
        ref: `g${counter}`,
        kind: 'trouble',
        lang,
        text: composition.text,
        // Everyone is hit, not only the chatty: any author.
        author: random.pick(byLang[lang].length > 0 ? byLang[lang] : authors),
        createdAt: new Date(start + offset),
        brand: brand.label,
        traits: composition.traits,
        scenario: 'outage',
      };
    });
  };

  return {
    next,
    take: (n) => Array.from({ length: n }, next),
    outageBurst,
    authors,
    officialAuthors,
  };
}
