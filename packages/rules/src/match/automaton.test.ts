import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWordCode, joinsWord } from '../normalize.ts';
import { createAutomaton } from './automaton.ts';

/** Every (pattern, end) occurrence found by plain indexOf, with the same word-boundary rule. */
function naiveHits(patterns: readonly string[], text: string): string[] {
  const hits: string[] = [];
  patterns.forEach((pattern, index) => {
    if (pattern.length === 0) return;
    const startBounded = isWordCode(pattern.charCodeAt(0));
    const endBounded = isWordCode(pattern.charCodeAt(pattern.length - 1));
    for (let at = text.indexOf(pattern); at !== -1; at = text.indexOf(pattern, at + 1)) {
      const end = at + pattern.length;
      if (startBounded && at > 0 && joinsWord(text.charCodeAt(at - 1), text.charCodeAt(at))) continue;
      if (endBounded && end < text.length && joinsWord(text.charCodeAt(end - 1), text.charCodeAt(end)))
        continue;
      hits.push(`${index}@${end}`);
    }
  });
  return hits.sort();
}

function automatonHits(patterns: readonly string[], text: string): string[] {
  const hits: string[] = [];
  createAutomaton(patterns).scan(text, (p, end) => hits.push(`${p}@${end}`));
  return hits.sort();
}

describe('createAutomaton', () => {
  it.each([
    { patterns: ['booklog'], text: 'Booklog is down'.toLowerCase(), expected: ['0@7'] },
    { patterns: ['booklog'], text: 'booklogging is fun', expected: [] },
    { patterns: ['booklog'], text: 'i love #booklog!', expected: ['0@15'] },
    { patterns: ['booklog'], text: 'booklogが落ちてる', expected: ['0@7'] },
    { patterns: ['ぶくろぐ'], text: 'きょうもぶくろぐで', expected: ['0@8'] },
    { patterns: ['he', 'she', 'ひと', 'とひ'], text: 'ひとひと she', expected: ['1@8', '2@2', '2@4', '3@3'] },
    { patterns: ['ab', 'b'], text: 'xb', expected: [] },
    { patterns: ['booklog'], text: 'booklog2026', expected: ['0@7'] },
    { patterns: ['z会'], text: '小3z会', expected: ['0@4'] },
    { patterns: ['booklog'], text: 'booklog_2026', expected: [] },
    { patterns: ['a1'], text: 'a12', expected: [] },
  ])('finds $patterns in "$text"', ({ patterns, text, expected }) => {
    expect(automatonHits(patterns, text)).toEqual([...expected].sort());
  });

  it('agrees with a naive search on random patterns and texts', () => {
    const alphabet = fc.constantFrom('a', 'b', ' ', 'ぶ', 'く', 'ろ', 'ー', '-', '1', '2', '_');
    const word = fc.array(alphabet, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(
        fc.uniqueArray(word, { minLength: 1, maxLength: 8 }),
        fc.array(alphabet, { maxLength: 30 }),
        (patterns, chars) => {
          const text = chars.join('');
          expect(automatonHits(patterns, text)).toEqual(naiveHits(patterns, text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles an empty pattern list and empty text', () => {
    const hits: number[] = [];
    createAutomaton([]).scan('anything', (p) => hits.push(p));
    createAutomaton(['x']).scan('', (p) => hits.push(p));
    expect(hits).toEqual([]);
  });
});
