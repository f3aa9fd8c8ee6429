// @module Tests: the bytes-per-token bound — it holds for real tokenizations, and is withheld where text can vanish or fuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '@tessera/model-files';
import { maxBytesPerToken } from './bytes-per-token.ts';
import { TextTokenizer } from './tokenizer.ts';
import { syntheticByteLevelFiles, syntheticSentencePieceFiles } from '@tessera/testing';

const storiesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'models', 'stories260K', 'hf');

/** Seeded texts mixing ASCII words, runs of one character, whitespace and multi-byte characters. */
function texts(seed: number, count: number): string[] {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const parts = ['Hello', ' a', ' the', 'aaaaaaaaaaaa', '          ', '\n\n', 'é', '日本', '🙂', 'Once upon a time', '<s>', '</s>', 'ab', ',', '!', 'zzzz'];
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(rand() * 60) }, () => parts[Math.floor(rand() * parts.length)]!).join(''));
}

function assertBoundHolds(tok: TextTokenizer): void {
  assert.ok(tok.maxBytesPerToken !== null && tok.maxBytesPerToken >= 1);
  for (const text of texts(7, 300)) {
    const ids = tok.encode(text, { addSpecialTokens: false });
    assert.ok(ids.length >= tok.minTokens(text), `${JSON.stringify(text)}: ${ids.length} tokens < bound ${tok.minTokens(text)}`);
  }
}

test('the bound holds for SentencePiece (byte fallback) and byte-level BPE: never more bytes per token than it says', () => {
  assertBoundHolds(TextTokenizer.fromFiles(syntheticSentencePieceFiles()));
  assertBoundHolds(TextTokenizer.fromFiles(syntheticByteLevelFiles()));
});

test('the bound holds for stories260K', { skip: existsSync(storiesDir) ? false : '../shared/models/stories260K not present' }, async () => {
  const model = await loadModel(storiesDir);
  assertBoundHolds(TextTokenizer.fromFiles(model.tokenizer));
});

test('no bound where text can vanish or merge without limit', () => {
  const base = syntheticByteLevelFiles().tokenizerJson;
  const pieces = ['a', 'bb'];
  assert.equal(maxBytesPerToken(base, pieces), 2);
  assert.equal(maxBytesPerToken({ ...base, pre_tokenizer: { type: 'Whitespace' } }, pieces), null, 'drops spaces');
  assert.equal(maxBytesPerToken({ ...base, pre_tokenizer: { type: 'Split', behavior: 'Removed' } }, pieces), null);
  assert.equal(maxBytesPerToken({ ...base, normalizer: { type: 'Strip', left: true, right: true } }, pieces), null);
  assert.equal(maxBytesPerToken({ ...base, normalizer: { type: 'Precompiled', precompiled_charsmap: '' } }, pieces), null);
  assert.equal(maxBytesPerToken({ ...base, normalizer: { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' } }, pieces), null);
  assert.equal(maxBytesPerToken({ ...base, normalizer: { type: 'Replace', pattern: { String: '  ' }, content: ' ' } }, pieces), null, 'a shrinking literal');
  assert.equal(maxBytesPerToken({ ...base, normalizer: { type: 'NFKC' } }, pieces), 6, 'composition shrinks at most 3×');
  assert.equal(maxBytesPerToken({ ...base, model: { type: 'BPE', fuse_unk: true, byte_fallback: false } }, pieces), null, 'fused unknown runs');
  assert.equal(maxBytesPerToken({ ...base, model: { type: 'Unigram' } }, pieces), null, 'Unigram fuses unknowns by default');
  assert.equal(maxBytesPerToken({ ...base, model: { type: 'WordPiece' } }, pieces), null);
});
