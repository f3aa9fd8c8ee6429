// @module Seeded PRNG (splitmix32 → xoshiro128**) and a bit-exact "normal-ish" fill, for deterministic weights.

/** 32-bit FNV-1a of a string's UTF-16 code units; used to give each tensor its own stream. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function splitmix32(state: number): { value: number; state: number } {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return { value: (z ^ (z >>> 16)) >>> 0, state: next };
}

/** xoshiro128** — small, fast, and only integer arithmetic, so every platform gives the same stream. */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let state = seed | 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const step = splitmix32(state);
      state = step.state;
      words.push(step.value | 0);
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.s1;
    const rotated = Math.imul(s1, 5);
    const result = Math.imul((rotated << 7) | (rotated >>> 25), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result >>> 0;
  }
}

/** A generator for one named tensor: independent of how many other tensors exist or their order. */
export function tensorRng(seed: number, name: string): Xoshiro128 {
  return new Xoshiro128((Math.imul(seed | 0, 0x9e3779b1) ^ fnv1a32(name)) | 0);
}

const SQRT3 = Math.sqrt(3);

/**
 * Fills `out` with mean-0, std-`std` values: the Irwin–Hall sum of four 16-bit uniforms, rescaled
 * (a bounded bell, ±3.46 std). No transcendental functions, so results are bit-identical everywhere.
 */
export function fillNormalish(out: Float32Array, std: number, rng: Xoshiro128): void {
  const scale = (SQRT3 * std) / 65536;
  for (let i = 0; i < out.length; i++) {
    const a = rng.nextU32();
    const b = rng.nextU32();
    // Each half + 0.5 is uniform on (0, 65536); four of them sum to mean 131072, variance 4 · 65536² / 12.
    const sum = (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff) + 2 - 131072;
    out[i] = sum * scale;
  }
}
