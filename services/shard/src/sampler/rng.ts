// @module A seeded PRNG per request (xoshiro128** seeded through splitmix32): reproducible sampling.
import { randomInt } from 'node:crypto';

/** Largest seed we hand out: seeds travel as uint64 but JS numbers are exact only below 2^53. */
const MAX_SEED = 2 ** 53 - 1;

/** A fresh random seed in [1, 2^53). */
export function randomSeed(): number {
  return randomInt(1, 2 ** 24) * 2 ** 29 + randomInt(0, 2 ** 29);
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  readonly #s = new Uint32Array(4);

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > MAX_SEED) throw new Error(`seed ${seed} must be an integer in [0, 2^53)`);
    const lo = splitmix32(seed >>> 0);
    const hi = splitmix32(Math.floor(seed / 2 ** 32) ^ 0x5bd1e995);
    // Every word mixes both halves: xoshiro's first output reads s[1] alone, and seeds that share a
    // half (1, 2, 3, … all have high half 0) must not share their first draw.
    for (let k = 0; k < 4; k++) this.#s[k] = (lo() ^ rotl(hi(), 16)) >>> 0;
    this.#s[3] = this.#s[3]! | 1; // never all-zero
  }

  /** Next 32 random bits. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
