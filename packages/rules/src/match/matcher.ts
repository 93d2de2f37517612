import { type Platform, textRepostOf } from '../post.ts';
import type { PreparedPost } from '../prepare.ts';
import { localPart } from '../prepare.ts';
import type { QueryNode } from '../query-ast.ts';
import { createAutomaton } from './automaton.ts';

/** Something to match: a watch, or the query condition of an escalation rule. */
export interface MatchEntry {
  readonly key: string;
  readonly ast: QueryNode;
  /** Platforms the entry applies to; absent or empty: all. */
  readonly platforms?: readonly Platform[] | undefined;
  /** Languages the entry accepts; a post whose language is unknown passes. Absent or empty: all. */
  readonly languages?: readonly string[] | undefined;
}

/** All entries compiled into one automaton: the cost of a post grows with its text, not the entry count. */
export interface Matcher {
  /** Keys of the entries the post matches, in the order the entries were given. */
  match(post: PreparedPost): string[];
  readonly entryCount: number;
  readonly patternCount: number;
  /** Entries with no required word, hashtag, mention or author: checked for every post. */
  readonly unanchoredCount: number;
}

type Predicate = (post: PreparedPost) => boolean;

/**
 * What must be present for a query to match: one of these patterns, hashtags, mentions or authors.
 * `null` means the query can match without any of them (it is checked for every post).
 */
interface Anchors {
  readonly patterns: readonly number[];
  readonly hashtags: readonly string[];
  readonly mentions: readonly string[];
  readonly authors: readonly string[];
}

const size = (a: Anchors) => a.patterns.length + a.hashtags.length + a.mentions.length + a.authors.length;

function pushIndex(index: Map<string, number[]>, key: string, entry: number) {
  const list = index.get(key);
  if (list === undefined) index.set(key, [entry]);
  else if (list[list.length - 1] !== entry) list.push(entry);
}

export function createMatcher(entries: readonly MatchEntry[]): Matcher {
  const patternIndex = new Map<string, number>();
  const patterns: string[] = [];
  let hitGeneration = new Uint32Array(0);
  let generation = 0;

  const patternOf = (text: string): number => {
    let index = patternIndex.get(text);
    if (index === undefined) {
      index = patterns.length;
      patterns.push(text);
      patternIndex.set(text, index);
    }
    return index;
  };

  const compile = (node: QueryNode): { test: Predicate; anchors: Anchors | null } => {
    switch (node.type) {
      case 'term':
      case 'phrase': {
        if (node.normalized.length === 0) return { test: () => false, anchors: null };
        const pattern = patternOf(node.normalized);
        return {
          test: () => hitGeneration[pattern] === generation,
          anchors: { patterns: [pattern], hashtags: [], mentions: [], authors: [] },
        };
      }
      case 'hashtag': {
        const tag = node.normalized;
        return {
          test: (p) => p.hashtags.has(tag),
          anchors: { patterns: [], hashtags: [tag], mentions: [], authors: [] },
        };
      }
      case 'mention': {
        const name = node.normalized;
        return {
          test: (p) => p.mentions.has(name),
          anchors: { patterns: [], hashtags: [], mentions: [name], authors: [] },
        };
      }
      case 'from': {
        const handle = node.value;
        const qualified = handle.includes('@');
        return {
          test: qualified ? (p) => p.authorHandle === handle : (p) => p.authorLocal === handle,
          anchors: {
            patterns: [],
            hashtags: [],
            mentions: [],
            authors: [qualified ? localPart(handle) : handle],
          },
        };
      }
      case 'lang': {
        const lang = node.value;
        const prefix = `${lang}-`;
        return {
          test: (p) => {
            const l = p.post.lang?.toLowerCase();
            return l === lang || (l?.startsWith(prefix) ?? false);
          },
          anchors: null,
        };
      }
      case 'url': {
        const fragment = node.value;
        return { test: (p) => p.urls.some((u) => u.includes(fragment)), anchors: null };
      }
      case 'is':
        return node.value === 'reply'
          ? { test: (p) => p.post.inReplyTo !== null, anchors: null }
          : {
              test: (p) => p.post.repostOf !== null || textRepostOf(p.post.text) !== undefined,
              anchors: null,
            };
      case 'not': {
        const inner = compile(node.child).test;
        return { test: (p) => !inner(p), anchors: null };
      }
      case 'and': {
        const parts = node.children.map(compile);
        const tests = parts.map((part) => part.test);
        // Any one child's anchors suffice, since every child must hold: take the smallest set.
        let anchors: Anchors | null = null;
        for (const part of parts) {
          if (part.anchors !== null && (anchors === null || size(part.anchors) < size(anchors))) {
            anchors = part.anchors;
          }
        }
        return { test: (p) => tests.every((t) => t(p)), anchors };
      }
      case 'or': {
        const parts = node.children.map(compile);
        const tests = parts.map((part) => part.test);
        let anchors: Anchors | null = { patterns: [], hashtags: [], mentions: [], authors: [] };
        for (const part of parts) {
          if (part.anchors === null) {
            anchors = null;
            break;
          }
          anchors = {
            patterns: [...anchors.patterns, ...part.anchors.patterns],
            hashtags: [...anchors.hashtags, ...part.anchors.hashtags],
            mentions: [...anchors.mentions, ...part.anchors.mentions],
            authors: [...anchors.authors, ...part.anchors.authors],
          };
        }
        return { test: (p) => tests.some((t) => t(p)), anchors };
      }
    }
  };

  const byPattern: number[][] = [];
  const byHashtag = new Map<string, number[]>();
  const byMention = new Map<string, number[]>();
  const byAuthor = new Map<string, number[]>();
  const unanchored: number[] = [];
  const tests: Predicate[] = [];
  const platformSets: Array<ReadonlySet<Platform> | null> = [];
  const languageSets: Array<ReadonlySet<string> | null> = [];

  entries.forEach((entry, e) => {
    const { test, anchors } = compile(entry.ast);
    tests.push(test);
    platformSets.push(entry.platforms?.length ? new Set(entry.platforms) : null);
    languageSets.push(entry.languages?.length ? new Set(entry.languages.map((l) => l.toLowerCase())) : null);
    if (anchors === null) {
      unanchored.push(e);
      return;
    }
    for (const pattern of anchors.patterns) {
      const list = byPattern[pattern];
      if (list === undefined) byPattern[pattern] = [e];
      else if (list[list.length - 1] !== e) list.push(e);
    }
    for (const tag of anchors.hashtags) pushIndex(byHashtag, tag, e);
    for (const mention of anchors.mentions) pushIndex(byMention, mention, e);
    for (const author of anchors.authors) pushIndex(byAuthor, author, e);
  });

  const automaton = createAutomaton(patterns);
  hitGeneration = new Uint32Array(patterns.length);
  const candidateGeneration = new Uint32Array(entries.length);
  const hits: number[] = [];
  const candidates: number[] = [];

  const addCandidates = (list: readonly number[] | undefined) => {
    if (list === undefined) return;
    for (const e of list) {
      if (candidateGeneration[e] !== generation) {
        candidateGeneration[e] = generation;
        candidates.push(e);
      }
    }
  };
  const onHit = (pattern: number) => {
    if (hitGeneration[pattern] !== generation) {
      hitGeneration[pattern] = generation;
      hits.push(pattern);
    }
  };

  return {
    entryCount: entries.length,
    patternCount: patterns.length,
    unanchoredCount: unanchored.length,
    match(post) {
      generation++;
      if (generation === 0xffffffff) {
        hitGeneration.fill(0);
        candidateGeneration.fill(0);
        generation = 1;
      }
      hits.length = 0;
      candidates.length = 0;
      automaton.scan(post.prose, onHit);
      for (const pattern of hits) addCandidates(byPattern[pattern]);
      if (byHashtag.size > 0) for (const tag of post.hashtags) addCandidates(byHashtag.get(tag));
      if (byMention.size > 0) for (const mention of post.mentions) addCandidates(byMention.get(mention));
      if (byAuthor.size > 0) addCandidates(byAuthor.get(post.authorLocal));
      addCandidates(unanchored);

      const matched: number[] = [];
      const platform = post.post.platform;
      const lang = post.post.lang?.toLowerCase().split('-')[0];
      for (const e of candidates) {
        const platforms = platformSets[e];
        if (platforms != null && !platforms.has(platform)) continue;
        const languages = languageSets[e];
        if (languages != null && lang !== undefined && !languages.has(lang)) continue;
        if ((tests[e] as Predicate)(post)) matched.push(e);
      }
      matched.sort((a, b) => a - b);
      return matched.map((e) => (entries[e] as MatchEntry).key);
    },
  };
}
