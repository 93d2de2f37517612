import { createClassifier, type IntentSignal, type ModelReading } from './classify/classify.ts';
import type { Category, Config, Intent, Priority } from './config.ts';
import { createRouter, type Escalation } from './escalate.ts';
import { createMatcher, type MatchEntry } from './match/matcher.ts';
import {
  type BlueskyQueryPlan,
  compileBlueskyQueries,
  compileMastodonSources,
  compileXQueries,
  type MastodonSources,
  type XQueryPlan,
} from './platform-queries.ts';
import type { Platform, Post } from './post.ts';
import { preparePost } from './prepare.ts';
import { parseQuery } from './query/parse.ts';
import type { QueryNode } from './query-ast.ts';
import { type ContactRecord, createSuppressionPolicy, type SuppressionReason } from './suppress.ts';
import { pickTemplate, renderTemplate } from './templates/render.ts';
import { measureReplyTo } from './templates/reply-text.ts';

/** What the rules need to know besides the post: the clock and the team's recent contacts. */
export interface DecisionContext {
  readonly now: Date;
  /** Earlier replies to authors (any platform); feeds the cooldown. */
  readonly contactHistory?: readonly ContactRecord[];
  /** Replies our account sent this day (in the organisation's time zone), per platform; feeds the daily cap. */
  readonly repliesToday?: Partial<Record<Platform, number>>;
  /** A per-instance character limit read from the platform (Mastodon), overriding the configuration. */
  readonly maxCharacters?: Partial<Record<Platform, number>>;
}

/** A reply prepared from a template, with its length counted the platform's way. */
export interface SuggestedReply {
  readonly templateId: string;
  readonly text: string;
  readonly length: number;
  readonly limit: number;
  readonly ok: boolean;
}

/** Everything the rules decided about one post. */
export type Decision =
  | { readonly matched: false; readonly post: PostRef }
  | {
      readonly matched: true;
      readonly post: PostRef;
      readonly watches: readonly string[];
      readonly intent: Intent;
      readonly signals: readonly IntentSignal[];
      /** What the learned model concluded (absent in decisions made before it, or without built-in words). */
      readonly model?: ModelReading;
      readonly category: Category | null;
      readonly reply: SuggestedReply | null;
      readonly route: { readonly reviewChannel: string; readonly priority: Priority };
      readonly escalations: readonly Escalation[];
      readonly suppressed: boolean;
      readonly suppression: {
        readonly reasons: readonly SuppressionReason[];
        readonly detail: readonly string[];
      };
    };

export interface PostRef {
  readonly platform: Platform;
  readonly id: string;
  readonly url: string;
}

export interface RulesEngine {
  decide(post: Post, context: DecisionContext): Decision;
  /** Keys of the watches a post matches, without classifying or suppressing (for previews). */
  matchWatches(post: Post): string[];
  /** X recent-search queries that cover every enabled X watch. */
  readonly xQueries: XQueryPlan;
  /** Hashtags and search terms that cover every enabled Mastodon watch. */
  readonly mastodonSources: MastodonSources;
  /** Bluesky searches that cover every enabled Bluesky watch (Bluesky search has no OR: one per alternative). */
  readonly blueskyQueries: BlueskyQueryPlan;
}

const ESCALATION_KEY = 'escalation:';

const appliesTo = (platforms: readonly Platform[] | undefined, platform: Platform) =>
  platforms === undefined || platforms.length === 0 || platforms.includes(platform);

/**
 * Compiles a validated configuration (see `loadConfig`) into a rules engine. Compilation is done once;
 * `decide` is pure and fast.
 */
export function createRulesEngine(config: Config): RulesEngine {
  const watches = config.watches.filter((w) => w.enabled);
  const watchAsts = new Map<string, QueryNode>(watches.map((w) => [w.id, parseQuery(w.query)]));
  const entries: MatchEntry[] = watches.map((w) => ({
    key: w.id,
    ast: watchAsts.get(w.id) as QueryNode,
    platforms: w.platforms,
    languages: w.languages,
  }));
  for (const rule of config.escalation) {
    if (rule.enabled && rule.when.query !== undefined) {
      entries.push({ key: `${ESCALATION_KEY}${rule.id}`, ast: parseQuery(rule.when.query) });
    }
  }
  const matcher = createMatcher(entries);
  const classifier = createClassifier(config.classifier);
  const router = createRouter({ escalation: config.escalation, routing: config.routing });
  const instance = config.platforms.mastodon.instance;
  const suppression = createSuppressionPolicy(
    config.suppression,
    instance === undefined ? {} : { mastodonInstance: instance },
  );
  const watchById = new Map(watches.map((w) => [w.id, w]));

  const compiledFor = (platform: Platform) =>
    watches
      .filter((w) => appliesTo(w.platforms, platform))
      .map((w) => ({ id: w.id, ast: watchAsts.get(w.id) as QueryNode }));

  const split = (keys: readonly string[]) => {
    const watchIds: string[] = [];
    const escalationIds = new Set<string>();
    for (const key of keys) {
      if (key.startsWith(ESCALATION_KEY)) escalationIds.add(key.slice(ESCALATION_KEY.length));
      else watchIds.push(key);
    }
    return { watchIds, escalationIds };
  };

  return {
    xQueries: compileXQueries(compiledFor('x'), {
      maxLength: config.platforms.x.maxQueryLength,
      excludeReposts: config.platforms.x.excludeReposts,
    }),
    mastodonSources: compileMastodonSources(compiledFor('mastodon')),
    blueskyQueries: compileBlueskyQueries(compiledFor('bluesky')),

    matchWatches(post) {
      return split(matcher.match(preparePost(post))).watchIds;
    },

    decide(post, context) {
      const ref: PostRef = { platform: post.platform, id: post.id, url: post.url };
      const prepared = preparePost(post);
      const { watchIds, escalationIds } = split(matcher.match(prepared));
      if (watchIds.length === 0) return { matched: false, post: ref };

      const { intent, category, signals, model } = classifier.classify(prepared.prose);
      const routing = router.route({ post, watchIds, intent, queryMatches: escalationIds });
      const verdict = suppression.check(post, {
        now: context.now,
        contactHistory: context.contactHistory ?? [],
        repliesToday: context.repliesToday ?? {},
      });

      let reply: SuggestedReply | null = null;
      const firstWatch = watchById.get(watchIds[0] as string);
      if (category !== null && firstWatch !== undefined) {
        const template = pickTemplate(config.templates, {
          platform: post.platform,
          category,
          watchId: firstWatch.id,
          language: post.lang,
        });
        if (template !== undefined) {
          const text = renderTemplate(template, {
            post,
            watch: { id: firstWatch.id, name: firstWatch.name },
            variables: config.variables,
          });
          const maxCharacters =
            context.maxCharacters?.[post.platform] ?? config.platforms.mastodon.maxCharacters;
          const measured = measureReplyTo(
            text,
            { platform: post.platform, authorHandle: post.author.handle },
            { maxCharacters },
          );
          reply = {
            templateId: template.id,
            text,
            length: measured.length,
            limit: measured.limit,
            ok: measured.ok,
          };
        }
      }

      return {
        matched: true,
        post: ref,
        watches: watchIds,
        intent,
        signals,
        ...(model === undefined ? {} : { model }),
        category,
        reply,
        route: { reviewChannel: routing.reviewChannel, priority: routing.priority },
        escalations: routing.escalations,
        suppressed: verdict.suppressed,
        suppression: { reasons: verdict.reasons, detail: verdict.detail },
      };
    },
  };
}
