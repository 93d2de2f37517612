import type { EscalationRule, Intent, Priority, Routing } from './config.ts';
import type { Platform, Post } from './post.ts';

/** What the router knows about one match. */
export interface EscalationContext {
  post: Post;
  /** Ids of the watches that matched the post, in the order the review channel is looked up. */
  watchIds: readonly string[];
  intent: Intent;
  /** Ids of escalation rules whose `when.query` matched this post (evaluated by the matcher elsewhere). */
  queryMatches: ReadonlySet<string>;
}

/** One fired escalation rule: where to hand the match and whom to call. */
export interface Escalation {
  ruleId: string;
  /** The rule's name, or its id when it has none. */
  name: string;
  route?: string;
  mentionRoles: string[];
  /** The rule's priority; "normal" when the rule sets none. */
  priority: Priority;
  /** Which conditions held, human-readable; empty for a rule without conditions. */
  reasons: string[];
}

/** Where a match goes for review, how urgent it is and which escalations fired. */
export interface RoutingDecision {
  reviewChannel: string;
  priority: Priority;
  /** Highest priority first, then in configuration order. */
  escalations: Escalation[];
}

/** A routing configuration compiled for repeated use. */
export interface Router {
  /** Decides review channel, priority and escalations for one match. */
  route(ctx: EscalationContext): RoutingDecision;
}

const RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

/** Negative when `a` is less urgent than `b`, 0 when equal, positive when more urgent. */
export function comparePriority(a: Priority, b: Priority): number {
  return RANK[a] - RANK[b];
}

/** A rule with its condition lists turned into sets once, so route() does no per-call allocation. */
interface CompiledRule {
  rule: EscalationRule;
  index: number;
  watches: ReadonlySet<string> | undefined;
  intents: ReadonlySet<Intent> | undefined;
  platforms: ReadonlySet<Platform> | undefined;
}

const setOf = <T>(list: readonly T[] | undefined): ReadonlySet<T> | undefined =>
  list === undefined ? undefined : new Set(list);

/** The reasons a rule fires for `ctx`, or undefined when one of its conditions does not hold. */
function evaluate(compiled: CompiledRule, ctx: EscalationContext): string[] | undefined {
  const { rule } = compiled;
  const when = rule.when;
  const reasons: string[] = [];
  if (when.query !== undefined) {
    if (!ctx.queryMatches.has(rule.id)) return undefined;
    reasons.push('query matched');
  }
  if (compiled.watches !== undefined) {
    const watch = ctx.watchIds.find((w) => compiled.watches?.has(w));
    if (watch === undefined) return undefined;
    reasons.push(`watch ${watch}`);
  }
  if (compiled.intents !== undefined) {
    if (!compiled.intents.has(ctx.intent)) return undefined;
    reasons.push(`intent ${ctx.intent}`);
  }
  if (compiled.platforms !== undefined) {
    if (!compiled.platforms.has(ctx.post.platform)) return undefined;
    reasons.push(`platform ${ctx.post.platform}`);
  }
  const followers = ctx.post.author.followers;
  if (when.minFollowers !== undefined) {
    if (followers === null || followers < when.minFollowers) return undefined;
    reasons.push(`${followers} followers ≥ ${when.minFollowers}`);
  }
  if (when.maxFollowers !== undefined) {
    if (followers === null || followers > when.maxFollowers) return undefined;
    reasons.push(`${followers} followers ≤ ${when.maxFollowers}`);
  }
  return reasons;
}

/**
 * Compiles escalation rules and routing.
 *
 * A rule fires when it is enabled and every condition it gives holds; a rule without conditions fires
 * for every match (useful to mention a role on everything). Conditions: `query` (the rule id is in
 * `ctx.queryMatches`), `watches` (any of the match's watches), `intents`, `platforms`, and
 * `minFollowers`/`maxFollowers` (inclusive; an author whose follower count is unknown satisfies
 * neither, so a follower rule never fires on a guess).
 *
 * Review channel: the channel of the first of `ctx.watchIds` that has one, else the platform's, else
 * `routing.defaultReviewChannel`.
 *
 * Priority: the most urgent priority among the fired rules, a rule without a priority counting as
 * "normal"; "normal" when none fired. So a rule can lower a match to "low" (e.g. tiny accounts) only
 * when every rule that fired agrees: an escalation to a department is never demoted by another rule.
 */
export function createRouter(config: { escalation: readonly EscalationRule[]; routing: Routing }): Router {
  const rules: CompiledRule[] = config.escalation
    .filter((rule) => rule.enabled)
    .map((rule, index) => ({
      rule,
      index,
      watches: setOf(rule.when.watches),
      intents: setOf(rule.when.intents),
      platforms: setOf(rule.when.platforms),
    }));
  const { routing } = config;
  // Object.hasOwn: watch ids such as "constructor" must not find Object.prototype members.
  const channelOfWatch = (id: string): string | undefined =>
    Object.hasOwn(routing.watches, id) ? routing.watches[id] : undefined;
  const channelOfPlatform = (platform: Platform): string | undefined =>
    Object.hasOwn(routing.platforms, platform) ? routing.platforms[platform] : undefined;

  return {
    route(ctx) {
      let reviewChannel: string | undefined;
      for (const id of ctx.watchIds) {
        reviewChannel = channelOfWatch(id);
        if (reviewChannel !== undefined) break;
      }
      reviewChannel ??= channelOfPlatform(ctx.post.platform) ?? routing.defaultReviewChannel;

      const fired: { escalation: Escalation; index: number }[] = [];
      for (const compiled of rules) {
        const reasons = evaluate(compiled, ctx);
        if (reasons === undefined) continue;
        const { rule } = compiled;
        const escalation: Escalation = {
          ruleId: rule.id,
          name: rule.name ?? rule.id,
          mentionRoles: [...rule.actions.mentionRoles],
          priority: rule.actions.priority ?? 'normal',
          reasons,
        };
        if (rule.actions.route !== undefined) escalation.route = rule.actions.route;
        fired.push({ escalation, index: compiled.index });
      }
      fired.sort(
        (a, b) => comparePriority(b.escalation.priority, a.escalation.priority) || a.index - b.index,
      );
      const escalations = fired.map((f) => f.escalation);
      return { reviewChannel, priority: escalations[0]?.priority ?? 'normal', escalations };
    },
  };
}
