// @module A small deterministic byte-level BPE trainer (GPT-2 style) for the generated model's tokenizer.

import { BYTE_TO_UNICODE, byteLevelPieces } from './byte-level.ts';
import { TRAINING_CORPUS } from './corpus.ts';

export interface TrainedBpe {
  /** The 256 byte-level characters, in byte order. */
  alphabet: string[];
  /** Merges in rank order, each a pair of token strings. */
  merges: [string, string][];
  /** Tokens the merges created, in creation order (a merge whose result already exists creates none). */
  newTokens: string[];
  /** For each new token, the index of the merge that created it. */
  createdByMerge: number[];
}

/** Ids stay below 2^20, so a pair packs into one exact double. */
const PAIR_SHIFT = 1 << 20;

/** Max-heap of (count, pair) with ties broken towards the smaller pair key (lower left id, then right id). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  private above(i: number, j: number): boolean {
    return this.counts[i]! > this.counts[j]! || (this.counts[i] === this.counts[j] && this.keys[i]! < this.keys[j]!);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.keys.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): { count: number; key: number } {
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.keys.length && this.above(l, best)) best = l;
        if (r < this.keys.length && this.above(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/**
 * Trains byte-level BPE on `corpus` until `maxNewTokens` tokens exist beyond the alphabet or no pair
 * is left (every word a single token). Deterministic: the most frequent pair wins, ties go to the
 * pair whose (left, right) token ids are smallest; words are visited in first-occurrence order.
 */
export function trainByteLevelBpe(corpus: string, maxNewTokens = Infinity): TrainedBpe {
  const wordCounts = new Map<string, number>();
  for (const piece of byteLevelPieces(corpus)) wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);

  const alphabet = [...BYTE_TO_UNICODE];
  const tokens: string[] = [...alphabet];
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [word, count] of wordCounts) {
    words.push(Array.from(word, (ch) => idOf.get(ch)!));
    freq.push(count);
  }

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const heap = new PairHeap();
  const changed = new Set<number>();
  const addPairs = (w: number, sign: 1 | -1) => {
    const symbols = words[w]!;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = symbols[i]! * PAIR_SHIFT + symbols[i + 1]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * freq[w]!);
      changed.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  const flushChanged = () => {
    for (const key of changed) {
      const count = pairCounts.get(key)!;
      if (count > 0) heap.push(count, key);
      else pairCounts.delete(key);
    }
    changed.clear();
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  flushChanged();

  const merges: [string, string][] = [];
  const newTokens: string[] = [];
  const createdByMerge: number[] = [];
  while (newTokens.length < maxNewTokens && heap.size > 0) {
    const { count, key } = heap.pop();
    if (pairCounts.get(key) !== count) continue; // stale heap entry
    const left = Math.floor(key / PAIR_SHIFT);
    const right = key % PAIR_SHIFT;
    const merged = tokens[left]! + tokens[right]!;
    let mergedId = idOf.get(merged);
    if (mergedId === undefined) {
      mergedId = tokens.length;
      tokens.push(merged);
      idOf.set(merged, mergedId);
      newTokens.push(merged);
      createdByMerge.push(merges.length);
    }
    merges.push([tokens[left]!, tokens[right]!]);

    const affected = [...pairWords.get(key)!].sort((a, b) => a - b);
    pairWords.delete(key);
    for (const w of affected) {
      const symbols = words[w]!;
      addPairs(w, -1);
      const out: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
          out.push(mergedId);
          i++;
        } else {
          out.push(symbols[i]!);
        }
      }
      words[w] = out;
      addPairs(w, 1);
    }
    flushChanged();
  }
  return { alphabet, merges, newTokens, createdByMerge };
}

let embeddedCache: TrainedBpe | null = null;

/** BPE trained to exhaustion on the embedded corpus, once per process. */
export function embeddedCorpusBpe(): TrainedBpe {
  embeddedCache ??= trainByteLevelBpe(TRAINING_CORPUS);
  return embeddedCache;
}

/** The first `count` new tokens of a trained BPE and exactly the merges needed to create them. */
export function truncateBpe(bpe: TrainedBpe, count: number): TrainedBpe {
  const n = Math.max(0, Math.min(count, bpe.newTokens.length));
  const mergeCount = n === 0 ? 0 : bpe.createdByMerge[n - 1]! + 1;
  return {
    alphabet: bpe.alphabet,
    merges: bpe.merges.slice(0, mergeCount),
    newTokens: bpe.newTokens.slice(0, n),
    createdByMerge: bpe.createdByMerge.slice(0, n),
  };
}
