import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import type { GgufValue } from './gguf.ts';
import { openGguf } from './gguf.ts';
import { ggufTokenizer, sentencePieceMerges } from './gguf-tokenizer.ts';
import type { TokenizerFiles } from './types.ts';

const STORIES = fileURLToPath(new URL('../../../../shared/models/stories260K/', import.meta.url));
const load = (files: TokenizerFiles) => new Tokenizer(files.tokenizerJson, files.tokenizerConfig);

/** GPT-2 byte-level alphabet: bytes that are printable map to themselves, others to U+0100 + n. */
function byteLevelChar(byte: number): string {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  if (printable(byte)) return String.fromCharCode(byte);
  let n = 0;
  for (let b = 0; b < byte; b++) if (!printable(b)) n++;
  return String.fromCharCode(256 + n);
}

test('gpt2-style GGUF vocab + merges: byte-level BPE encodes, adds BOS when asked, and decodes', () => {
  const bytes = Array.from({ length: 256 }, (_, b) => byteLevelChar(b));
  const merged = ['Ġt', 'he', 'Ġthe', 'Ġc', 'at', 'Ġcat', 'Ġs', 'Ġsat'];
  const tokens = [...bytes, ...merged, '<|begin|>', '<|end|>'];
  const metadata = new Map<string, GgufValue>([
    ['tokenizer.ggml.model', 'gpt2'],
    ['tokenizer.ggml.pre', 'llama-bpe'],
    ['tokenizer.ggml.tokens', tokens],
    ['tokenizer.ggml.token_type', [...tokens.map(() => 1).slice(0, -2), 3, 3]],
    ['tokenizer.ggml.merges', ['Ġ t', 'h e', 'Ġt he', 'Ġ c', 'a t', 'Ġc at', 'Ġ s', 'Ġs at']],
    ['tokenizer.ggml.bos_token_id', 264],
    ['tokenizer.ggml.eos_token_id', 265],
    ['tokenizer.chat_template', '{{ bos_token }}'],
  ]);
  const built = ggufTokenizer(metadata, 'g.gguf');
  assert.deepEqual(built.warnings, []);
  assert.equal(built.bosTokenId, 264);
  assert.deepEqual(built.eosTokenIds, [265]);
  assert.equal(built.files.chatTemplate, '{{ bos_token }}');
  assert.equal(built.files.tokenizerConfig['add_bos_token'], true, 'llama-bpe adds BOS by default');
  const tokenizer = load(built.files);
  const id = (t: string) => tokens.indexOf(t);
  const text = 'the cat sat!\n é<|end|>';
  const ids = tokenizer.encode(text).ids;
  assert.deepEqual(ids, [264, id('t'), id('he'), id('Ġcat'), id('Ġsat'), id('!'), id('Ċ'), id('Ġ'), 195 /* Ã: 0xC3 */, 169 /* 0xA9 */, 265]);
  assert.equal(tokenizer.decode(ids, { skip_special_tokens: true }), 'the cat sat!\n é');
  assert.equal(tokenizer.decode(ids), '<|begin|>the cat sat!\n é<|end|>');

  // An unknown pre-tokenizer would split text differently from the model's own tokenizer: refused, naming it.
  metadata.set('tokenizer.ggml.pre', 'some-new-model');
  assert.throws(
    () => ggufTokenizer(metadata, 'g.gguf'),
    /g\.gguf: metadata "tokenizer\.ggml\.pre" value "some-new-model" is not supported: .*\(supported: default, gpt-2, gpt2, olmo, llama-bpe/,
  );
  metadata.set('tokenizer.ggml.pre', 'gpt-2');
  metadata.set('tokenizer.ggml.add_bos_token', false);
  assert.deepEqual(load(ggufTokenizer(metadata, 'g.gguf').files).encode('the cat').ids, [id('t'), id('he'), id('Ġcat')]);
});

test('SentencePiece merges follow piece scores, then the ids of the halves', () => {
  const tokens = ['<unk>', 'a', 'b', 'c', 'ab', 'abc', 'bc'];
  const scores = [0, 0, 0, 0, -1, -2, -3];
  assert.deepEqual(sentencePieceMerges(tokens, scores), [
    ['a', 'b'],
    ['a', 'bc'],
    ['ab', 'c'],
    ['b', 'c'],
  ]);
});

test('stories260K: the GGUF-built tokenizer matches hf/tokenizer.json', (t) => {
  if (!fs.existsSync(STORIES)) return t.skip('stories260K tokenizer comparison: ../shared not present');
  const gguf = openGguf(`${STORIES}stories260K.gguf`);
  const built = ggufTokenizer(gguf.metadata, 'stories260K.gguf');
  const hfJson = JSON.parse(fs.readFileSync(`${STORIES}hf/tokenizer.json`, 'utf8')) as Record<string, unknown>;
  const hfConfig = JSON.parse(fs.readFileSync(`${STORIES}hf/tokenizer_config.json`, 'utf8')) as Record<string, unknown>;
  assert.deepEqual((built.files.tokenizerJson['model'] as { merges: unknown }).merges, (hfJson['model'] as { merges: unknown }).merges);
  assert.deepEqual((built.files.tokenizerJson['model'] as { vocab: unknown }).vocab, (hfJson['model'] as { vocab: unknown }).vocab);
  assert.equal(built.files.chatTemplate, null, 'the GGUF has no chat template');

  const fromGguf = load(built.files);
  const fromHf = new Tokenizer(hfJson, hfConfig);
  assert.deepEqual(fromGguf.encode('Once upon a time').ids, [1, 403, 407, 261, 378]);
  assert.deepEqual(fromGguf.encode('Once upon a time', { add_special_tokens: false }).ids, [403, 407, 261, 378]);
  const samples = [
    'Once upon a time',
    '',
    ' ',
    '  leading spaces',
    'trailing spaces   ',
    'tabs\tand\nnewlines\n\n',
    'The end.',
    'Lily said, "Hi!" and ran.',
    'héllo wörld',
    '日本語のテキスト',
    'emoji 😀🎉 here',
    'x'.repeat(40),
    'MiXeD CaSe 123 4567',
    '<s> literal special </s>',
    'a\u00a0non-breaking space',
    'Zürich—dash…ellipsis',
    '\n',
    'ok',
  ];
  for (const text of samples) {
    const ids = fromGguf.encode(text).ids;
    assert.deepEqual(ids, fromHf.encode(text).ids, JSON.stringify(text));
    assert.equal(fromGguf.decode(ids, { skip_special_tokens: true }), fromHf.decode(ids, { skip_special_tokens: true }));
    if (!text.includes('<s>') && !/^ /.test(text)) assert.equal(fromGguf.decode(ids, { skip_special_tokens: true }), text, JSON.stringify(text));
  }
});
