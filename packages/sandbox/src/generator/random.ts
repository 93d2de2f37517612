/** A seeded pseudo-random source: the generator never touches Math.random, so a seed replays a world. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** One item chosen with probability proportional to its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T;
}

/** mulberry32: tiny, fast and good enough for synthetic data. */
export function createRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    between: (min, max) => min + int(max - min + 1),
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)] as T;
    },
    weighted<T>(items: readonly (readonly [T, number])[]): T {
      let total = 0;
      for (const [, weight] of items) total += Math.max(0, weight);
      if (!(total > 0)) throw new Error('weighted pick with no positive weight');
      let r = next() * total;
      for (const [item, weight] of items) {
        if (weight <= 0) continue;
        r -= weight;
        if (r < 0) return item;
      }
      // Rounding: the last item with a positive weight.
      for (let i = items.length - 1; i >= 0; i--) {
        const entry = items[i] as readonly [T, number];
        if (entry[1] > 0) return entry[0];
      }
      throw new Error('unreachable');
    },
  };
}
