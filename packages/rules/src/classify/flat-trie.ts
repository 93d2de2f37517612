/**
 * A character trie compiled into typed arrays for the classifier's scan (one lookup per character of
 * every post): a double-array trie. The code units the keys use are numbered 1, 2, … (`letters`;
 * every other code unit is 0), and the child of node n for code unit c sits at slot base[n] +
 * letters[c], which is n's child exactly when check[slot] is n. A step is three array reads and no
 * loop (the earlier open-addressing hash probed and multiplied per step). Built once from a trie of
 * Maps, read-only afterwards.
 */

/** A trie of Maps as built (the keys are UTF-16 code units). */
export interface MapTrieNode<T> {
  next: Map<number, MapTrieNode<T>> | undefined;
  entry: T | undefined;
}

/** Node 0 is the root; `NONE` is "no such child". */
export const NONE = -1;

/** check[] of a slot no node uses (and of the root: no node is its parent). */
const FREE = -2;

export class FlatTrie<T> {
  /** Per code unit: its number among the code units the keys use, 1 … ; 0: in no key. */
  private readonly letters: Int32Array;
  /** Per node (slot): where its children start. */
  private readonly base: Int32Array;
  /** Per slot: the parent of the node there, or FREE. */
  private readonly check: Int32Array;
  /** Per node (slot): its entry, if a word ends there. */
  readonly entries: ReadonlyArray<T | undefined>;

  constructor(root: MapTrieNode<T>) {
    this.letters = new Int32Array(0x10000);
    let count = 0;
    const pending: MapTrieNode<T>[] = [root];
    for (let at = 0; at < pending.length; at++) {
      for (const [code, child] of (pending[at] as MapTrieNode<T>).next ?? []) {
        if (this.letters[code] === 0) this.letters[code] = ++count;
        pending.push(child);
      }
    }
    // Each node's children go at the first base where all their slots are free. Nodes with the most
    // children are placed first, while the arrays are empty, and the many one-child nodes fill the
    // gaps (placing breadth first made the search for a base the slow part of createClassifier).
    const inner = pending.filter((node) => node.next !== undefined && node.next.size > 0);
    inner.sort((a, b) => (b.next as Map<number, unknown>).size - (a.next as Map<number, unknown>).size);
    const bases = new Map<MapTrieNode<T>, number>();
    // The free slots: nextFree[s] leads to the first free slot at or after s (a union–find chain,
    // shortened as it is walked), so the search steps from one free slot to the next.
    let nextFree = Int32Array.from({ length: 2 * (count + pending.length) + 16 }, (_, s) => s);
    const take = (slot: number): void => {
      nextFree[slot] = slot + 1;
    };
    const free = (from: number): number => {
      let s = from;
      while (nextFree[s] !== s) {
        const after = nextFree[s] as number;
        nextFree[s] = nextFree[after] as number;
        s = after;
      }
      return s;
    };
    take(0); // the root
    let used = 1;
    for (const node of inner) {
      const letters = [...(node.next as Map<number, MapTrieNode<T>>).keys()]
        .map((code) => this.letters[code] as number)
        .sort((a, b) => a - b);
      const lowest = letters[0] as number;
      const highest = letters[letters.length - 1] as number;
      let b = 0;
      for (let s = free(lowest + 1); ; s = free(s + 1)) {
        b = s - lowest;
        if (b + highest + 1 >= nextFree.length) {
          const larger = Int32Array.from({ length: (b + highest + 1) * 2 }, (_, k) => k);
          larger.set(nextFree);
          nextFree = larger;
        }
        if (letters.every((letter) => free(b + letter) === b + letter)) break;
      }
      for (const letter of letters) take(b + letter);
      bases.set(node, b);
      used = Math.max(used, b + highest + 1);
    }
    // Room past the last slot for any base + letter: every read stays inside the arrays.
    const size = used + count + 1;
    this.base = new Int32Array(size);
    this.check = new Int32Array(size).fill(FREE);
    const entries: Array<T | undefined> = new Array(size).fill(undefined);
    const queue: Array<[MapTrieNode<T>, number]> = [[root, 0]];
    for (let at = 0; at < queue.length; at++) {
      const [node, slot] = queue[at] as [MapTrieNode<T>, number];
      entries[slot] = node.entry;
      const b = bases.get(node);
      if (b === undefined) continue;
      this.base[slot] = b;
      for (const [code, child] of node.next as Map<number, MapTrieNode<T>>) {
        const childSlot = b + (this.letters[code] as number);
        this.check[childSlot] = slot;
        queue.push([child, childSlot]);
      }
    }
    this.entries = entries;
  }

  /** The child of `node` for the code unit `code`, or NONE. */
  child(node: number, code: number): number {
    const slot = (this.base[node] as number) + (this.letters[code] as number);
    return this.check[slot] === node ? slot : NONE;
  }
}
