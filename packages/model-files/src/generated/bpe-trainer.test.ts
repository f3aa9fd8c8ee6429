// @module Tests of the byte-level BPE trainer: hand-checked merges, determinism, truncation, speed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BYTE_TO_UNICODE, byteLevelPieces } from './byte-level.ts';
import { embeddedCorpusBpe, trainByteLevelBpe, truncateBpe } from './bpe-trainer.ts';
import { TRAINING_CORPUS } from './corpus.ts';

test("byte-level map is GPT-2's: printable bytes map to themselves, space to Ġ, newline to Ċ, all distinct", () => {
  assert.equal(BYTE_TO_UNICODE['A'.charCodeAt(0)], 'A');
  assert.equal(BYTE_TO_UNICODE[32], 'Ġ');
  assert.equal(BYTE_TO_UNICODE[10], 'Ċ');
  assert.equal(new Set(BYTE_TO_UNICODE).size, 256);
  assert.deepEqual(byteLevelPieces("it's 42 é"), ['it', "'s", 'Ġ42', 'ĠÃ©']);
});

test('merges follow frequency, ties go to the smaller (left, right) ids', () => {
  // Words: "ab" ×1, " ab" ×2, " cd" ×1 → pairs (a,b)=3, (Ġ,a)=2, (Ġ,c)=1, (c,d)=1.
  const bpe = trainByteLevelBpe('ab ab ab cd');
  assert.deepEqual(bpe.merges, [
    ['a', 'b'],
    ['Ġ', 'ab'],
    ['Ġ', 'c'], // (32, 99) sorts before (99, 100)
    ['Ġc', 'd'],
  ]);
  assert.deepEqual(bpe.newTokens, ['ab', 'Ġab', 'Ġc', 'Ġcd']);
});

test('repeated symbols merge left to right without overlap', () => {
  const bpe = trainByteLevelBpe('aaaa');
  assert.deepEqual(bpe.merges, [
    ['a', 'a'],
    ['aa', 'aa'],
  ]);
});

test('every merge joins tokens that exist before it, and each new token is its creating merge', () => {
  const bpe = embeddedCorpusBpe();
  const known = new Set(bpe.alphabet);
  let next = 0;
  bpe.merges.forEach(([left, right], rank) => {
    assert.ok(known.has(left) && known.has(right), `merge ${rank} uses an unknown token`);
    known.add(left + right);
    if (bpe.createdByMerge[next] === rank) assert.equal(bpe.newTokens[next++], left + right);
  });
  assert.equal(next, bpe.newTokens.length);
  assert.equal(new Set(bpe.newTokens).size, bpe.newTokens.length);
});

test('training is deterministic and stops at the requested number of new tokens', () => {
  const first = trainByteLevelBpe(TRAINING_CORPUS, 600);
  const second = trainByteLevelBpe(TRAINING_CORPUS, 600);
  assert.deepEqual(first, second);
  assert.equal(first.newTokens.length, 600);
});

test('truncating the full training equals training with that limit', () => {
  const full = embeddedCorpusBpe();
  assert.ok(full.newTokens.length > 2048, `corpus yields only ${full.newTokens.length} tokens`);
  assert.deepEqual(truncateBpe(full, 300), trainByteLevelBpe(TRAINING_CORPUS, 300));
  assert.deepEqual(truncateBpe(full, 1e9), full);
});

test('training the whole embedded corpus is fast', () => {
  const started = performance.now();
  trainByteLevelBpe(TRAINING_CORPUS);
  const ms = performance.now() - started;
  assert.ok(ms < 3000, `training took ${ms.toFixed(0)} ms`);
});
