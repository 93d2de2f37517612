import { z } from 'zod';
import { platformSchema } from './post.ts';

/**
 * The one configuration schema: what the web console saves, imports and exports, what the JSON API
 * accepts and what `kikimimi dry-run --config` reads. Published as JSON Schema in docs/.
 */

/**
 * Documented maxima of a configuration (README "Limits"): enough for a large support team, small
 * enough that saving, importing, listing and matching stay fast and a console page stays small.
 */
export const CONFIG_LIMITS = {
  watches: 2_000,
  templates: 500,
  escalation: 500,
  variables: 200,
  ownAccounts: 200,
  doNotContact: 20_000,
  linkedAuthors: 5_000,
  /** Words per classifier list (praise, complaint, …). */
  words: 2_000,
  mentionRoles: 20,
  /** Watch ids a template or an escalation rule refers to. */
  watchRefs: 200,
} as const;

/** An array of at most `max` items, with the message every limit shares. */
const atMost = <T extends z.ZodType>(item: T, max: number, what: string) =>
  z.array(item).max(max, `at most ${max} ${what} in a configuration (kikimimi's limit)`);

const id = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}$/u,
    'use 1–64 lower-case letters, digits, "-" or "_", starting with a letter or digit',
  );

export const intentSchema = z.enum(['praise', 'complaint', 'trouble', 'question', 'neutral']);
export type Intent = z.infer<typeof intentSchema>;

/** The three gestures of active support, plus templates a team defines for itself. */
export const categorySchema = z.enum(['thanks', 'apology', 'guidance', 'custom']);
export type Category = z.infer<typeof categorySchema>;

export const prioritySchema = z.enum(['low', 'normal', 'high', 'urgent']);
export type Priority = z.infer<typeof prioritySchema>;

export const watchSchema = z.object({
  id,
  name: z.string().min(1).max(200).optional(),
  /** In the kikimimi query language (see packages/rules/README.md). */
  query: z.string().min(1).max(2000),
  /** Platforms this watch listens on; default: all. */
  platforms: z.array(platformSchema).min(1).max(10).optional(),
  enabled: z.boolean().default(true),
  /** Languages the watch accepts (ISO 639-1); empty or absent: any. */
  languages: z
    .array(z.string().regex(/^[a-z]{2,3}$/u))
    .max(50)
    .optional(),
});
export type Watch = z.infer<typeof watchSchema>;
export type WatchInput = z.input<typeof watchSchema>;

export const templateSchema = z.object({
  id,
  name: z.string().min(1).max(200).optional(),
  /** A platform, or "*" for every platform without a template of its own for this category. */
  platform: z.union([platformSchema, z.literal('*')]).default('*'),
  category: categorySchema,
  /** Text with {author.name}, {author.handle}, {post.url}, {watch} and {vars.NAME} placeholders. */
  text: z.string().min(1).max(5000),
  /** Restrict to some watches; absent: every watch. */
  watches: atMost(z.string().max(64), CONFIG_LIMITS.watchRefs, 'watch ids').optional(),
  /**
   * The language the text is written in (ISO 639-1, e.g. "ja", "en"): preferred for posts in that
   * language. Absent: any language (after the templates in the post's language).
   */
  language: z
    .string()
    .regex(/^[a-z]{2,3}$/u, 'use a language code such as "ja" or "en"')
    .optional(),
});
export type Template = z.infer<typeof templateSchema>;

export const escalationRuleSchema = z.object({
  id,
  name: z.string().min(1).max(200).optional(),
  enabled: z.boolean().default(true),
  /** Every condition given must hold; an absent condition always holds. */
  when: z
    .object({
      /** A query in the kikimimi query language, evaluated against the post. */
      query: z.string().min(1).max(2000).optional(),
      watches: atMost(z.string().max(64), CONFIG_LIMITS.watchRefs, 'watch ids').min(1).optional(),
      intents: z.array(intentSchema).min(1).max(10).optional(),
      platforms: z.array(platformSchema).min(1).max(10).optional(),
      minFollowers: z.number().int().nonnegative().optional(),
      maxFollowers: z.number().int().nonnegative().optional(),
    })
    .default({}),
  actions: z.object({
    /** A named escalation target (a Discord channel configured in the console), e.g. "billing". */
    route: z.string().min(1).max(100).optional(),
    /** Role names (bound to Discord roles by an admin) to mention when the escalation is posted. */
    mentionRoles: atMost(z.string().min(1).max(100), CONFIG_LIMITS.mentionRoles, 'roles to mention').default(
      [],
    ),
    priority: prioritySchema.optional(),
  }),
});
export type EscalationRule = z.infer<typeof escalationRuleSchema>;

const accountRef = z.object({
  platform: platformSchema,
  /** Handle without @; for Mastodon either "name" (same instance) or "name@instance". */
  handle: z.string().min(1).max(320),
});
export type AccountRef = z.infer<typeof accountRef>;

export const suppressionSchema = z
  .object({
    /** Our own accounts: never answered. */
    ownAccounts: atMost(accountRef, CONFIG_LIMITS.ownAccounts, 'own accounts').default([]),
    /** People who asked not to be contacted. */
    doNotContact: atMost(
      accountRef.extend({ note: z.string().max(500).optional() }),
      CONFIG_LIMITS.doNotContact,
      'do-not-contact entries',
    ).default([]),
    ignoreReposts: z.boolean().default(true),
    /** Posts older than this are recorded but not put in front of a reviewer. 0 disables. */
    maxAgeHours: z.number().nonnegative().default(48),
    /** No second approach to the same person (on any platform) within this many hours. 0 disables. */
    authorCooldownHours: z.number().nonnegative().default(72),
    /** Treat the same handle on different platforms as the same person for the cooldown. */
    linkHandlesAcrossPlatforms: z.boolean().default(true),
    /** Accounts known to be the same person: groups of "platform:handle". */
    linkedAuthors: atMost(
      z
        .array(
          z
            .string()
            .max(330)
            .regex(/^[a-z]+:.+$/u),
        )
        .min(2)
        .max(20),
      CONFIG_LIMITS.linkedAuthors,
      'groups of linked authors',
    ).default([]),
    /** Replies our account may send per day (of the organisation's time zone), per platform. Absent: no cap. */
    dailyReplyCap: z.partialRecord(platformSchema, z.number().int().nonnegative()).default({}),
  })
  .default({
    ownAccounts: [],
    doNotContact: [],
    ignoreReposts: true,
    maxAgeHours: 48,
    authorCooldownHours: 72,
    linkHandlesAcrossPlatforms: true,
    linkedAuthors: [],
    dailyReplyCap: {},
  });
export type Suppression = z.infer<typeof suppressionSchema>;

export const routingSchema = z
  .object({
    /** Review channel for everything not routed more specifically. */
    defaultReviewChannel: z.string().min(1).default('review'),
    /** Review channel per platform. */
    platforms: z.partialRecord(platformSchema, z.string().min(1)).default({}),
    /** Review channel per watch id (wins over the platform's). */
    watches: z
      .record(z.string().max(64), z.string().min(1).max(100))
      .refine((map) => Object.keys(map).length <= CONFIG_LIMITS.watches, {
        message: `at most ${CONFIG_LIMITS.watches} watch routes in a configuration (kikimimi's limit)`,
      })
      .default({}),
  })
  .default({ defaultReviewChannel: 'review', platforms: {}, watches: {} });
export type Routing = z.infer<typeof routingSchema>;

const wordList = atMost(z.string().min(1).max(100), CONFIG_LIMITS.words, 'words in one list');

/** Additions to (or replacements of) the built-in intent dictionaries. */
export const classifierSchema = z
  .object({
    /** false: use only the words given here. */
    useBuiltIn: z.boolean().default(true),
    praise: wordList.default([]),
    complaint: wordList.default([]),
    trouble: wordList.default([]),
    question: wordList.default([]),
    /** Words that turn a praise/complaint signal around when they follow it (ない, not, …). */
    negators: wordList.default([]),
  })
  .default({ useBuiltIn: true, praise: [], complaint: [], trouble: [], question: [], negators: [] });
export type ClassifierConfig = z.infer<typeof classifierSchema>;

export const platformOptionsSchema = z
  .object({
    x: z
      .object({
        /** Ask X not to return reposts (they are never answered, and each post read is billed). */
        excludeReposts: z.boolean().default(true),
        maxQueryLength: z.number().int().min(32).max(4096).default(512),
      })
      .default({ excludeReposts: true, maxQueryLength: 512 }),
    mastodon: z
      .object({
        /** Per-instance limit; the connector reads the real one from /api/v2/instance. */
        maxCharacters: z.number().int().positive().default(500),
        /** Domain of our own instance (e.g. "mstdn.jp"): there `name@mstdn.jp` and `name` are one account. */
        instance: z
          .string()
          .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/iu, 'a domain such as "mstdn.jp"')
          .optional(),
      })
      .default({ maxCharacters: 500 }),
  })
  .default({ x: { excludeReposts: true, maxQueryLength: 512 }, mastodon: { maxCharacters: 500 } });
export type PlatformOptions = z.infer<typeof platformOptionsSchema>;

/** Defaults of the `surges` section (README "Surges"). */
export const SURGE_DEFAULTS = {
  enabled: true,
  windowMinutes: 10,
  minCount: 20,
  factor: 4,
  similarity: 0.3,
  quietMinutes: 30,
  baselineWeeks: 4,
  holdSeconds: 0,
  replyIntervalSeconds: 30,
} as const;

/**
 * Surges: an unusual number of near-identical matches of one watch (an outage's flood) becomes one
 * case instead of one review each. See packages/rules/README.md "Surges".
 */
export const surgesSchema = z
  .object({
    enabled: z.boolean().default(SURGE_DEFAULTS.enabled),
    /** Matches are counted over this many minutes. */
    windowMinutes: z.number().int().min(1).max(120).default(SURGE_DEFAULTS.windowMinutes),
    /**
     * The floor: at least this many near-identical matches within the window, whatever the baseline —
     * or, while their intent is flooded (this many of it over two minutes, this minute so far or the
     * last ten seconds, and `factor` times its usual), a group of three coming fast (README "Surges",
     * rule 3).
     */
    minCount: z.number().int().min(2).max(100_000).default(SURGE_DEFAULTS.minCount),
    /** And their watch and intent at least this many times the usual count for the window. */
    factor: z.number().min(1).max(1_000).default(SURGE_DEFAULTS.factor),
    /** Estimated Jaccard similarity of character bigrams from which two texts are near-identical. */
    similarity: z.number().min(0.05).max(1).default(SURGE_DEFAULTS.similarity),
    /** A surge without a new match for this many minutes is closed. */
    quietMinutes: z.number().int().min(1).max(10_080).default(SURGE_DEFAULTS.quietMinutes),
    /** The usual count is the median of the same hour of the week over this many past weeks. */
    baselineWeeks: z.number().int().min(1).max(12).default(SURGE_DEFAULTS.baselineWeeks),
    /**
     * A match whose near-duplicate group looks like a surge starting (a quarter of `minCount`, with
     * the same baseline checks) waits this long for its own review message: if the surge forms
     * meanwhile it joins the surge's one message instead. Keeps a flood's first matches from filling
     * the review channel ahead of ordinary ones. 0: never wait.
     */
    holdSeconds: z.number().int().min(0).max(600).default(SURGE_DEFAULTS.holdSeconds),
    /**
     * Replies to a surge's members go out one per this many seconds per account (paced: the brand does
     * not post a hundred identical replies in a second).
     */
    replyIntervalSeconds: z.number().int().min(1).max(3_600).default(SURGE_DEFAULTS.replyIntervalSeconds),
  })
  .default({ ...SURGE_DEFAULTS });
export type SurgeConfig = z.infer<typeof surgesSchema>;

const TIME_ZONES: ReadonlySet<string> = new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]);

/** An IANA time zone the runtime knows ("Asia/Tokyo", "UTC"). */
export const timeZoneSchema = z
  .string()
  .refine((tz) => TIME_ZONES.has(tz), 'an IANA time zone such as "Asia/Tokyo" or "UTC"');

/** Facts about the team that uses kikimimi. */
export const organizationSchema = z
  .object({
    /**
     * The one clock of the organisation: the dashboard's days, the daily reply cap and every time the
     * console shows. Absent: UTC (the console's setup fills it from the first admin's browser).
     */
    timeZone: timeZoneSchema.optional(),
  })
  .default({});
export type Organization = z.infer<typeof organizationSchema>;

/** The organisation's time zone: the configured one, else UTC. */
export const organizationTimeZone = (config: { organization?: Organization }): string =>
  config.organization?.timeZone ?? 'UTC';

export const DIGEST_EVERY = ['daily', 'weekly', 'off'] as const;

/**
 * The digest of customer voices and the effect of our replies, posted to a Discord channel. A period
 * ends at `hour`:00 in the organisation's time zone (weekly: on Monday) and lasts a day or a week; it
 * is posted once, just after it ends. The console shows the same digest (/digest) for any period.
 */
export const digestSchema = z
  .object({
    every: z.enum(DIGEST_EVERY).default('off'),
    /** The logical Discord channel (bound to a Discord channel in the console's Discord settings). */
    channel: z.string().trim().min(1).max(100).default('review'),
    /** The local hour (0–23, the organisation's time zone) at which each period ends and is posted. */
    hour: z.number().int().min(0).max(23).default(9),
  })
  .default({ every: 'off', channel: 'review', hour: 9 });
export type Digest = z.infer<typeof digestSchema>;

/** Following each case after our reply (the conversations). */
export const conversationsSchema = z
  .object({
    /** How long after our last reply the customer's answers and reactions are followed (days, 1–30). */
    followDays: z.number().int().min(1).max(30).default(7),
    /**
     * How often each account asks its platform for answers (minutes, 1–1440). One request covers every
     * followed case of the account (X: the mention timeline; Mastodon: notifications), so the cost does
     * not grow with the number of cases: X bills reads, see the console's cost estimate.
     */
    checkEveryMinutes: z.number().int().min(1).max(1440).default(10),
    digest: digestSchema,
  })
  .default({ followDays: 7, checkEveryMinutes: 10, digest: { every: 'off', channel: 'review', hour: 9 } });
export type Conversations = z.infer<typeof conversationsSchema>;

export const configSchema = z.object({
  $schema: z.string().optional(),
  version: z.literal(1).default(1),
  /** Free variables for templates: {vars.NAME}. */
  variables: z
    .record(
      z
        .string()
        .max(64)
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/u),
      z.string().max(2000),
    )
    .refine((vars) => Object.keys(vars).length <= CONFIG_LIMITS.variables, {
      message: `at most ${CONFIG_LIMITS.variables} variables in a configuration (kikimimi's limit)`,
    })
    .default({}),
  watches: atMost(watchSchema, CONFIG_LIMITS.watches, 'watches').default([]),
  templates: atMost(templateSchema, CONFIG_LIMITS.templates, 'templates').default([]),
  escalation: atMost(escalationRuleSchema, CONFIG_LIMITS.escalation, 'escalation rules').default([]),
  suppression: suppressionSchema,
  routing: routingSchema,
  classifier: classifierSchema,
  platforms: platformOptionsSchema,
  organization: organizationSchema,
  conversations: conversationsSchema,
  surges: surgesSchema,
});
export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
