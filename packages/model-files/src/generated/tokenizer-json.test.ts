// @module Tests that the generated tokenizer.json loads in @huggingface/tokenizers, round-trips text and has the exact size.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { trainByteLevelBpe } from './bpe-trainer.ts';
import { GENERATED_PRESETS } from './presets.ts';
import { tokenizerConfigJson } from './tokenizer-config.ts';
import { buildGeneratedTokenizer, GENERATED_SPECIAL_TOKENS, reservedTokenContent } from './tokenizer-json.ts';

const load = (json: Record<string, unknown>) => new Tokenizer(json, tokenizerConfigJson(2048));
const vocabOf = (json: Record<string, unknown>) => (json['model'] as { vocab: Record<string, number> }).vocab;

const SAMPLES = [
  'Once upon a time, there was a little girl named Lily.',
  'héllo wörld',
  '日本語',
  '🙂',
  'Mixed: tabs\tand\nnewlines,  double  spaces, "quotes" & symbols {}[]<>|~ 3.14159 ',
  "don't won't they're I'll we've",
];

test('tiny tokenizer loads, round-trips text exactly and compresses English', () => {
  const tokenizer = load(buildGeneratedTokenizer(GENERATED_PRESETS.tiny.vocabSize).tokenizerJson);
  for (const text of SAMPLES) {
    const { ids } = tokenizer.encode(text);
    assert.equal(tokenizer.decode(ids), text, `round trip of ${JSON.stringify(text)}`);
  }
  const english = SAMPLES[0]!;
  assert.ok(tokenizer.encode(english).ids.length < Buffer.byteLength(english) / 3, 'BPE merges should shorten English text');
  assert.deepEqual(tokenizer.encode('Once upon a time').tokens, ['Once', 'Ġupon', 'Ġa', 'Ġtime']);
});

test('chat special tokens encode as single ids at 0, 1, 2 and decode back', () => {
  const tokenizer = load(buildGeneratedTokenizer(2048).tokenizerJson);
  const { endOfText, imStart, imEnd } = GENERATED_SPECIAL_TOKENS;
  const { ids } = tokenizer.encode(`${imStart.content}user\nHi there${imEnd.content}${endOfText.content}`);
  assert.equal(ids[0], 1);
  assert.deepEqual(ids.slice(-2), [2, 0]);
  assert.equal(ids.filter((id: number) => id <= 2).length, 3);
  assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), 'user\nHi there');
});

test('vocabulary has exactly the preset size, dense ids, every merge part and result in it', () => {
  for (const preset of ['tiny', 'tp4'] as const) {
    const size = GENERATED_PRESETS[preset].vocabSize;
    const built = buildGeneratedTokenizer(size);
    const vocab = vocabOf(built.tokenizerJson);
    assert.equal(Object.keys(vocab).length, size);
    assert.deepEqual(
      Object.values(vocab).sort((a, b) => a - b),
      Array.from({ length: size }, (_, i) => i),
    );
    assert.equal(built.reservedCount, 0, `${preset} should need no reserved fill`);
    const merges = (built.tokenizerJson['model'] as { merges: string[] }).merges;
    for (const merge of merges) {
      const [left = '', right = ''] = merge.split(' ');
      assert.ok(left in vocab && right in vocab && left + right in vocab, `merge "${merge}"`);
    }
  }
});

test('a vocabulary larger than the corpus allows is filled with reserved specials (50m: 32000)', () => {
  const built = buildGeneratedTokenizer(GENERATED_PRESETS['50m'].vocabSize);
  const vocab = vocabOf(built.tokenizerJson);
  assert.equal(built.vocabSize, 32000);
  assert.equal(Object.keys(vocab).length, 32000);
  assert.ok(built.reservedCount > 0);
  assert.equal(vocab[reservedTokenContent(built.reservedCount - 1)], 31999);

  // A toy corpus runs out fast: 300 = 3 specials + 256 bytes + its few merges + reserved.
  const toy = trainByteLevelBpe('the cat and the hat');
  const small = buildGeneratedTokenizer(300, toy);
  assert.equal(small.reservedCount, 300 - 259 - toy.newTokens.length);
  const tokenizer = load(small.tokenizerJson);
  assert.deepEqual(tokenizer.encode(`a${reservedTokenContent(0)}b`).ids, [3 + 97, 300 - small.reservedCount, 3 + 98]);
  assert.equal(tokenizer.decode(tokenizer.encode('the 🙂 hat').ids), 'the 🙂 hat');
});

test('building is deterministic and rejects sizes below specials + bytes', () => {
  assert.equal(JSON.stringify(buildGeneratedTokenizer(1024).tokenizerJson), JSON.stringify(buildGeneratedTokenizer(1024).tokenizerJson));
  assert.throws(() => buildGeneratedTokenizer(258), /vocabSize must be an integer ≥ 259/);
});
