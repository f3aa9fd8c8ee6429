// @module Tests: the greedy/seed decision reads back on the shard exactly as the router encoded it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooserSeed, isGreedy, samplingFields } from './sampling.ts';

test('the router’s sample/greedy decision survives the wire: isGreedy reads it back', () => {
  assert.equal(isGreedy(samplingFields(true, 0.7, 42)), false);
  assert.equal(isGreedy(samplingFields(false, 0.7, 42)), true);
  assert.deepEqual(samplingFields(false, 0.7, 42), { doSample: false, temperature: 0, seed: 0 }, 'greedy sends neither temperature nor seed');
  assert.deepEqual(samplingFields(true, 0.7, null), { doSample: true, temperature: 0.7, seed: 0 });
});

test('do_sample at temperature 0 samples (at temperature 1 on the shard); temperature > 0 alone samples too', () => {
  assert.equal(isGreedy({ doSample: true, temperature: 0 }), false);
  assert.equal(isGreedy({ doSample: false, temperature: 0.5 }), false);
  assert.equal(isGreedy({ doSample: false, temperature: 0 }), true);
});

test('a sampling request keeps its seed, 0 included; a greedy one without a seed gets a fresh one', () => {
  const fresh = () => 777;
  assert.equal(chooserSeed({ doSample: true, temperature: 1, seed: 0 }, fresh), 0);
  assert.equal(chooserSeed({ doSample: true, temperature: 1, seed: 5 }, fresh), 5);
  assert.equal(chooserSeed({ doSample: false, temperature: 0, seed: 0 }, fresh), 777);
  assert.equal(chooserSeed({ doSample: false, temperature: 0, seed: 9 }, fresh), 9);
});
