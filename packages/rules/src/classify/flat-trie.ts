/**
 * A character trie compiled into typed arrays for the classifier's scan (one lookup per character of
 * every post). The first character is an index into a 65,536-entry table; every later step is an
 * open-addressing hash of (node, character). Built once from a trie of Maps, read-only afterwards.
 */

/** A trie of Maps as built (the keys are UTF-16 code units). */
export interface MapTrieNode<T> {
  next: Map<number, MapTrieNode<T>> | undefined;
  entry: T | undefined;
}

/** Node 0 is the root; `NONE` is "no such child". */
export const NONE = -1;

export class FlatTrie<T> {
  /** Child of the root for each code unit, plus one (0: none). */
  private readonly first: Int32Array;
  /** The hash table of the other edges: parent + 1 (0: empty slot), code unit, child. */
  private readonly parents: Int32Array;
  private readonly codes: Uint16Array;
  private readonly children: Int32Array;
  private readonly mask: number;
  /** Per node: 1 when it has children. */
  private readonly branches: Uint8Array;
  /** Per node: its entry, if a word ends there. */
  readonly entries: ReadonlyArray<T | undefined>;

  constructor(root: MapTrieNode<T>) {
    const nodes: MapTrieNode<T>[] = [root];
    const ids = new Map<MapTrieNode<T>, number>([[root, 0]]);
    let edges = 0;
    for (let at = 0; at < nodes.length; at++) {
      for (const child of (nodes[at] as MapTrieNode<T>).next?.values() ?? []) {
        ids.set(child, nodes.length);
        nodes.push(child);
        edges++;
      }
    }
    let size = 16;
    while (size < edges * 2) size *= 2;
    this.mask = size - 1;
    this.parents = new Int32Array(size);
    this.codes = new Uint16Array(size);
    this.children = new Int32Array(size);
    this.first = new Int32Array(0x10000);
    this.branches = new Uint8Array(nodes.length);
    this.entries = nodes.map((node) => node.entry);
    for (const [parent, node] of nodes.entries()) {
      if (node.next === undefined || node.next.size === 0) continue;
      this.branches[parent] = 1;
      for (const [code, child] of node.next) {
        const id = ids.get(child) as number;
        if (parent === 0) {
          this.first[code] = id + 1;
          continue;
        }
        let slot = slotOf(parent, code, this.mask);
        while (this.parents[slot] !== 0) slot = (slot + 1) & this.mask;
        this.parents[slot] = parent + 1;
        this.codes[slot] = code;
        this.children[slot] = id;
      }
    }
  }

  /** The child of `node` for the code unit `code`, or NONE. */
  child(node: number, code: number): number {
    if (node === 0) return (this.first[code] as number) - 1;
    if (this.branches[node] === 0) return NONE;
    const key = node + 1;
    let slot = slotOf(node, code, this.mask);
    for (;;) {
      const parent = this.parents[slot] as number;
      if (parent === 0) return NONE;
      if (parent === key && this.codes[slot] === code) return this.children[slot] as number;
      slot = (slot + 1) & this.mask;
    }
  }
}

function slotOf(node: number, code: number, mask: number): number {
  const h = Math.imul(node, 0x9e3779b1) ^ Math.imul(code, 0x85ebca6b);
  return (h ^ (h >>> 15)) & mask;
}
