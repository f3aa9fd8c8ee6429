// @module The seeded PRNG: reproducible, seed-sensitive, uniform enough, 53-bit seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, randomSeed } from './rng.ts';

test('same seed, same stream; different seeds (also above 2^32) differ', () => {
  const take = (seed: number) => {
    const r = new Rng(seed);
    return Array.from({ length: 8 }, () => r.next());
  };
  assert.deepEqual(take(7), take(7));
  assert.notDeepEqual(take(7), take(8));
  assert.notDeepEqual(take(2 ** 40 + 7), take(7));
});

test('seeds below 2^32 (one high half) and seeds sharing a low half differ from the first draw on', () => {
  // The first uniform's leading bits choose the first sampled token: they must differ, not only its last bits.
  const first = (seed: number) => Math.floor(new Rng(seed).next() * 2 ** 20);
  const small = new Set(Array.from({ length: 64 }, (_, k) => first(k + 1)));
  assert.equal(small.size, 64);
  const sameLow = new Set(Array.from({ length: 64 }, (_, k) => first(k * 2 ** 32 + 5)));
  assert.equal(sameLow.size, 64);
});

test('values lie in [0, 1) with a mean near 1/2', () => {
  const r = new Rng(123);
  let sum = 0;
  for (let i = 0; i < 20000; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1);
    sum += x;
  }
  assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01);
});

test('random seeds are positive safe integers; bad seeds are refused', () => {
  const s = randomSeed();
  assert.ok(Number.isSafeInteger(s) && s > 0);
  assert.throws(() => new Rng(-1));
  assert.throws(() => new Rng(1.5));
});
