import { isWordCode, joinsWord } from '../normalize.ts';

/**
 * Aho–Corasick over UTF-16 code units, built for the matcher's hot path (see docs/adr/002).
 *
 * Code units that occur in no pattern map to symbol 0 and send the automaton straight back to the
 * root, so ordinary text costs one table read per character. Transitions out of the root are a dense
 * array; the rest live in one open-addressing hash table of typed arrays (no per-state objects).
 * Patterns whose first or last character is a Latin-script word character only match on word
 * boundaries, so `booklog` finds "Booklog is down" but not "booklogging"; a digit next to a letter
 * is a boundary (`joinsWord`), so `booklog` finds "booklog2026" and `z会` finds "小3z会".
 */
export interface Automaton {
  readonly patternCount: number;
  /**
   * Calls `onHit(pattern, end)` once per occurrence that respects word boundaries, `end` being the
   * exclusive end offset, in order of `end`; a pattern may be reported more than once.
   */
  scan(text: string, onHit: (pattern: number, end: number) => void): void;
}

const EMPTY = -1;

export function createAutomaton(patterns: readonly string[]): Automaton {
  // Symbols: 1..alphabetSize for code units used by some pattern.
  const symbolOf = new Uint16Array(65536);
  let alphabetSize = 0;
  for (const pattern of patterns) {
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern.charCodeAt(i);
      if (symbolOf[c] === 0) symbolOf[c] = ++alphabetSize;
    }
  }

  // Build the trie with a temporary Map; states are numbered in creation order, root = 0.
  const edges = new Map<number, number>();
  const stride = alphabetSize + 1;
  const outputs: number[] = [EMPTY];
  const depths: number[] = [0];
  let stateCount = 1;
  patterns.forEach((pattern, index) => {
    if (pattern.length === 0) return;
    let state = 0;
    for (let i = 0; i < pattern.length; i++) {
      const key = state * stride + (symbolOf[pattern.charCodeAt(i)] as number);
      let next = edges.get(key);
      if (next === undefined) {
        next = stateCount++;
        edges.set(key, next);
        outputs.push(EMPTY);
        depths.push(i + 1);
      }
      state = next;
    }
    outputs[state] = index;
  });

  // Dense root row.
  const rootNext = new Int32Array(stride);
  // Children lists for BFS, grouped per state.
  const childrenOf: Array<Array<[number, number]>> = Array.from({ length: stateCount }, () => []);
  for (const [key, child] of edges) {
    const state = Math.floor(key / stride);
    const symbol = key - state * stride;
    (childrenOf[state] as Array<[number, number]>).push([symbol, child]);
    if (state === 0) rootNext[symbol] = child;
  }

  // Hash table of non-root transitions: (state, symbol) → next.
  let capacity = 16;
  while (capacity < edges.size * 2) capacity <<= 1;
  const mask = capacity - 1;
  const hashState = new Int32Array(capacity).fill(EMPTY);
  const hashSymbol = new Int32Array(capacity);
  const hashNext = new Int32Array(capacity);
  const slot = (state: number, symbol: number): number =>
    (Math.imul(state, 0x9e3779b1) ^ Math.imul(symbol, 0x85ebca6b)) & mask;
  for (const [key, child] of edges) {
    const state = Math.floor(key / stride);
    if (state === 0) continue;
    const symbol = key - state * stride;
    let i = slot(state, symbol);
    while (hashState[i] !== EMPTY) i = (i + 1) & mask;
    hashState[i] = state;
    hashSymbol[i] = symbol;
    hashNext[i] = child;
  }
  // Most states deep in the trie have exactly one child (the rest of a brand name): keep that edge
  // inline so the common step needs no hashing.
  const onlySymbol = new Int32Array(stateCount);
  const onlyNext = new Int32Array(stateCount).fill(EMPTY);
  const branching = new Uint8Array(stateCount);
  for (let state = 1; state < stateCount; state++) {
    const children = childrenOf[state] as Array<[number, number]>;
    branching[state] = children.length > 1 ? 1 : 0;
    if (children.length === 1) {
      const [symbol, child] = children[0] as [number, number];
      onlySymbol[state] = symbol;
      onlyNext[state] = child;
    }
  }
  const step = (state: number, symbol: number): number => {
    if (state === 0) return rootNext[symbol] as number;
    if (branching[state] === 0) return onlySymbol[state] === symbol ? (onlyNext[state] as number) : EMPTY;
    let i = slot(state, symbol);
    for (;;) {
      const s = hashState[i] as number;
      if (s === EMPTY) return EMPTY;
      if (s === state && hashSymbol[i] === symbol) return hashNext[i] as number;
      i = (i + 1) & mask;
    }
  };

  // Failure links and dictionary-suffix links (nearest proper suffix state that ends a pattern).
  const fail = new Int32Array(stateCount);
  const dictLink = new Int32Array(stateCount).fill(EMPTY);
  const queue: number[] = [];
  for (const [, child] of childrenOf[0] as Array<[number, number]>) queue.push(child);
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head] as number;
    for (const [symbol, child] of childrenOf[state] as Array<[number, number]>) {
      let f = fail[state] as number;
      let target = step(f, symbol);
      while (target === EMPTY && f !== 0) {
        f = fail[f] as number;
        target = step(f, symbol);
      }
      const failTarget = target === EMPTY || target === child ? 0 : target;
      fail[child] = failTarget;
      dictLink[child] = outputs[failTarget] !== EMPTY ? failTarget : (dictLink[failTarget] as number);
      queue.push(child);
    }
  }

  const output = Int32Array.from(outputs);
  const length = Int32Array.from(patterns, (p) => p.length);
  const startBounded = Uint8Array.from(patterns, (p) =>
    p.length > 0 && isWordCode(p.charCodeAt(0)) ? 1 : 0,
  );
  const endBounded = Uint8Array.from(patterns, (p) =>
    p.length > 0 && isWordCode(p.charCodeAt(p.length - 1)) ? 1 : 0,
  );

  return {
    patternCount: patterns.length,
    scan(text, onHit) {
      const n = text.length;
      let state = 0;
      for (let i = 0; i < n; i++) {
        const symbol = symbolOf[text.charCodeAt(i)] as number;
        if (symbol === 0) {
          state = 0;
          continue;
        }
        let next = step(state, symbol);
        while (next === EMPTY) {
          state = fail[state] as number;
          next = step(state, symbol);
        }
        state = next;
        let hit = output[state] === EMPTY ? (dictLink[state] as number) : state;
        while (hit !== EMPTY) {
          const pattern = output[hit] as number;
          const start = i + 1 - (length[pattern] as number);
          if (
            (startBounded[pattern] === 0 ||
              start === 0 ||
              !joinsWord(text.charCodeAt(start - 1), text.charCodeAt(start))) &&
            (endBounded[pattern] === 0 ||
              i + 1 === n ||
              !joinsWord(text.charCodeAt(i), text.charCodeAt(i + 1)))
          ) {
            onHit(pattern, i + 1);
          }
          hit = dictLink[hit] as number;
        }
      }
    },
  };
}
