import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  type EscalationRule,
  escalationRuleSchema,
  type Intent,
  type Priority,
  routingSchema,
} from './config.ts';
import { comparePriority, createRouter, type EscalationContext } from './escalate.ts';
import { type Platform, postSchema } from './post.ts';

type RuleInput = z.input<typeof escalationRuleSchema>;
type RoutingInput = NonNullable<z.input<typeof routingSchema>>;

const rule = (input: RuleInput): EscalationRule => escalationRuleSchema.parse(input);

function router(rules: RuleInput[], routing: RoutingInput = {}) {
  return createRouter({ escalation: rules.map(rule), routing: routingSchema.parse(routing) });
}

interface CtxSpec {
  platform?: Platform;
  followers?: number | null;
  watchIds?: readonly string[];
  intent?: Intent;
  queryMatches?: readonly string[];
}

function makeCtx(spec: CtxSpec = {}): EscalationContext {
  const platform = spec.platform ?? 'x';
  return {
    post: postSchema.parse({
      platform,
      id: 'p1',
      url: 'https://example.com/p1',
      author: {
        id: 'a1',
        handle: platform === 'x' ? 'someone' : 'someone@m.example',
        followers: spec.followers === undefined ? 100 : spec.followers,
      },
      text: '解約したいのに方法がわからない',
      createdAt: '2025-06-01T12:00:00Z',
    }),
    watchIds: spec.watchIds ?? ['brand'],
    intent: spec.intent ?? 'neutral',
    queryMatches: new Set(spec.queryMatches ?? []),
  };
}

describe('createRouter: review channel', () => {
  const routing: RoutingInput = {
    defaultReviewChannel: 'review-all',
    platforms: { mastodon: 'review-mastodon' },
    watches: { billing: 'review-billing', outage: 'review-outage' },
  };
  it.each<{ name: string; spec: CtxSpec; channel: string }>([
    {
      name: 'watch channel wins over platform',
      spec: { platform: 'mastodon', watchIds: ['billing'] },
      channel: 'review-billing',
    },
    {
      name: 'first watch with a channel',
      spec: { watchIds: ['brand', 'outage', 'billing'] },
      channel: 'review-outage',
    },
    {
      name: 'platform channel when no watch has one',
      spec: { platform: 'mastodon', watchIds: ['brand'] },
      channel: 'review-mastodon',
    },
    {
      name: 'default when neither has one',
      spec: { platform: 'x', watchIds: ['brand'] },
      channel: 'review-all',
    },
    { name: 'default without watches', spec: { watchIds: [] }, channel: 'review-all' },
    {
      name: 'prototype names are not channels',
      spec: { watchIds: ['constructor', 'tostring'] },
      channel: 'review-all',
    },
  ])('$name', ({ spec, channel }) => {
    expect(router([], routing).route(makeCtx(spec)).reviewChannel).toBe(channel);
  });

  it('uses the schema default "review" for an empty routing', () => {
    expect(router([]).route(makeCtx()).reviewChannel).toBe('review');
  });
});

describe('createRouter: conditions', () => {
  it.each<{ name: string; when: RuleInput['when']; spec: CtxSpec; reasons: string[] | null }>([
    { name: 'no conditions fires for every match', when: {}, spec: {}, reasons: [] },
    { name: 'absent when fires for every match', when: undefined, spec: {}, reasons: [] },
    {
      name: 'query matched',
      when: { query: '解約 OR 返金' },
      spec: { queryMatches: ['r'] },
      reasons: ['query matched'],
    },
    {
      name: 'query not matched',
      when: { query: '解約' },
      spec: { queryMatches: ['other-rule'] },
      reasons: null,
    },
    {
      name: 'query matched for another rule only',
      when: { query: '解約' },
      spec: { queryMatches: [] },
      reasons: null,
    },
    {
      name: 'watch: any of the match watches',
      when: { watches: ['billing', 'x'] },
      spec: { watchIds: ['brand', 'billing'] },
      reasons: ['watch billing'],
    },
    {
      name: 'watch: none of them',
      when: { watches: ['billing'] },
      spec: { watchIds: ['brand'] },
      reasons: null,
    },
    {
      name: 'watch: no watches at all',
      when: { watches: ['billing'] },
      spec: { watchIds: [] },
      reasons: null,
    },
    {
      name: 'intent listed',
      when: { intents: ['complaint', 'trouble'] },
      spec: { intent: 'trouble' },
      reasons: ['intent trouble'],
    },
    {
      name: 'intent not listed',
      when: { intents: ['complaint'] },
      spec: { intent: 'praise' },
      reasons: null,
    },
    {
      name: 'platform listed',
      when: { platforms: ['mastodon'] },
      spec: { platform: 'mastodon' },
      reasons: ['platform mastodon'],
    },
    {
      name: 'platform not listed',
      when: { platforms: ['mastodon'] },
      spec: { platform: 'x' },
      reasons: null,
    },
    {
      name: 'minFollowers: exactly',
      when: { minFollowers: 10_000 },
      spec: { followers: 10_000 },
      reasons: ['10000 followers ≥ 10000'],
    },
    {
      name: 'minFollowers: below',
      when: { minFollowers: 10_000 },
      spec: { followers: 9_999 },
      reasons: null,
    },
    { name: 'minFollowers: unknown', when: { minFollowers: 0 }, spec: { followers: null }, reasons: null },
    {
      name: 'maxFollowers: exactly',
      when: { maxFollowers: 10 },
      spec: { followers: 10 },
      reasons: ['10 followers ≤ 10'],
    },
    { name: 'maxFollowers: above', when: { maxFollowers: 10 }, spec: { followers: 11 }, reasons: null },
    {
      name: 'maxFollowers: unknown',
      when: { maxFollowers: 1_000_000 },
      spec: { followers: null },
      reasons: null,
    },
    {
      name: 'maxFollowers: 0 followers',
      when: { maxFollowers: 0 },
      spec: { followers: 0 },
      reasons: ['0 followers ≤ 0'],
    },
    {
      name: 'follower range: inside',
      when: { minFollowers: 100, maxFollowers: 200 },
      spec: { followers: 150 },
      reasons: ['150 followers ≥ 100', '150 followers ≤ 200'],
    },
    {
      name: 'follower range: empty (min > max) never fires',
      when: { minFollowers: 200, maxFollowers: 100 },
      spec: { followers: 150 },
      reasons: null,
    },
    {
      name: 'every condition holds',
      when: {
        query: 'q',
        watches: ['billing'],
        intents: ['complaint'],
        platforms: ['x'],
        minFollowers: 1,
        maxFollowers: 1000,
      },
      spec: {
        queryMatches: ['r'],
        watchIds: ['billing'],
        intent: 'complaint',
        platform: 'x',
        followers: 500,
      },
      reasons: [
        'query matched',
        'watch billing',
        'intent complaint',
        'platform x',
        '500 followers ≥ 1',
        '500 followers ≤ 1000',
      ],
    },
    ...(
      [
        ['query', { queryMatches: [] }],
        ['watches', { watchIds: ['brand'] }],
        ['intents', { intent: 'praise' }],
        ['platforms', { platform: 'mastodon' }],
        ['minFollowers', { followers: 0 }],
        ['maxFollowers', { followers: 5000 }],
      ] as const
    ).map(([failing, override]) => ({
      name: `every condition but ${failing} holds`,
      when: {
        query: 'q',
        watches: ['billing'],
        intents: ['complaint' as const],
        platforms: ['x' as const],
        minFollowers: 1,
        maxFollowers: 1000,
      },
      spec: {
        queryMatches: ['r'],
        watchIds: ['billing'],
        intent: 'complaint' as const,
        platform: 'x' as const,
        followers: 500,
        ...override,
      },
      reasons: null,
    })),
  ])('$name', ({ when, spec, reasons }) => {
    const input: RuleInput = when === undefined ? { id: 'r', actions: {} } : { id: 'r', when, actions: {} };
    const decision = router([input]).route(makeCtx(spec));
    if (reasons === null) {
      expect(decision.escalations).toEqual([]);
    } else {
      expect(decision.escalations.map((e) => e.reasons)).toEqual([reasons]);
    }
  });

  it('never fires a disabled rule', () => {
    const decision = router([{ id: 'off', enabled: false, actions: { priority: 'urgent' } }]).route(
      makeCtx(),
    );
    expect(decision).toEqual({ reviewChannel: 'review', priority: 'normal', escalations: [] });
  });
});

describe('createRouter: escalations', () => {
  it('hands 解約/返金 complaints to billing', () => {
    const decision = router(
      [
        {
          id: 'billing',
          name: '解約・返金',
          when: { query: '解約 OR 返金', intents: ['complaint', 'trouble', 'question'] },
          actions: { route: 'billing', mentionRoles: ['billing-team'], priority: 'high' },
        },
      ],
      { watches: { brand: 'review-brand' } },
    ).route(makeCtx({ queryMatches: ['billing'], intent: 'trouble' }));
    expect(decision).toEqual({
      reviewChannel: 'review-brand',
      priority: 'high',
      escalations: [
        {
          ruleId: 'billing',
          name: '解約・返金',
          route: 'billing',
          mentionRoles: ['billing-team'],
          priority: 'high',
          reasons: ['query matched', 'intent trouble'],
        },
      ],
    });
  });

  it('names a rule by its id when it has no name, without route or priority', () => {
    const [escalation] = router([{ id: 'cc-support', actions: { mentionRoles: ['support'] } }]).route(
      makeCtx(),
    ).escalations;
    expect(escalation).toEqual({
      ruleId: 'cc-support',
      name: 'cc-support',
      mentionRoles: ['support'],
      priority: 'normal',
      reasons: [],
    });
    expect(escalation && 'route' in escalation).toBe(false);
  });

  it('does not share mentionRoles with the configuration', () => {
    const config = rule({ id: 'r', actions: { mentionRoles: ['a'] } });
    const r = createRouter({ escalation: [config], routing: routingSchema.parse({}) });
    r.route(makeCtx()).escalations[0]?.mentionRoles.push('b');
    expect(r.route(makeCtx()).escalations[0]?.mentionRoles).toEqual(['a']);
    expect(config.actions.mentionRoles).toEqual(['a']);
  });
});

describe('createRouter: priority', () => {
  const withPriority = (id: string, priority?: Priority): RuleInput =>
    priority === undefined ? { id, actions: {} } : { id, actions: { priority } };

  it.each<{ name: string; priorities: (Priority | undefined)[]; expected: Priority }>([
    { name: 'nothing fired', priorities: [], expected: 'normal' },
    { name: 'a rule without priority', priorities: [undefined], expected: 'normal' },
    { name: 'low alone lowers', priorities: ['low'], expected: 'low' },
    { name: 'every fired rule low', priorities: ['low', 'low'], expected: 'low' },
    { name: 'low and a rule without priority', priorities: ['low', undefined], expected: 'normal' },
    { name: 'low and high', priorities: ['low', 'high'], expected: 'high' },
    { name: 'high alone', priorities: ['high'], expected: 'high' },
    { name: 'the most urgent wins', priorities: ['high', 'urgent', 'normal', 'low'], expected: 'urgent' },
  ])('$name → $expected', ({ priorities, expected }) => {
    const rules = priorities.map((p, i) => withPriority(`r${i}`, p));
    expect(router(rules).route(makeCtx()).priority).toBe(expected);
  });

  it('orders escalations by priority, then configuration order', () => {
    const decision = router([
      withPriority('a-low', 'low'),
      withPriority('b-normal'),
      withPriority('c-high', 'high'),
      { id: 'd-off', enabled: false, actions: { priority: 'urgent' } },
      withPriority('e-high', 'high'),
      withPriority('f-normal', 'normal'),
      withPriority('g-urgent', 'urgent'),
      { id: 'h-not-fired', when: { intents: ['praise'] }, actions: { priority: 'urgent' } },
    ]).route(makeCtx());
    expect(decision.escalations.map((e) => e.ruleId)).toEqual([
      'g-urgent',
      'c-high',
      'e-high',
      'b-normal',
      'f-normal',
      'a-low',
    ]);
    expect(decision.priority).toBe('urgent');
  });

  it.each<[Priority, Priority, number]>([
    ['low', 'normal', -1],
    ['urgent', 'high', 1],
    ['high', 'high', 0],
    ['low', 'urgent', -1],
  ])('comparePriority(%s, %s) has sign %i', (a, b, sign) => {
    expect(Math.sign(comparePriority(a, b))).toBe(sign);
  });
});
