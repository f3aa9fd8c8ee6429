// @module Each known GGUF pre-tokenizer splits text as its family's tokenizer.json does (seen through merges that cross split points).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer } from '@huggingface/tokenizers';
import { BYTE_TO_UNICODE } from './generated/byte-level.ts';
import type { GgufValue } from './gguf.ts';
import { ggufTokenizer } from './gguf-tokenizer.ts';
import { SUPPORTED_GGUF_PRE_TOKENIZERS } from './gguf-pre-tokenizers.ts';

// Merges that only apply when a split keeps their two halves in one piece: '12' then '34' then '1234' (digits), 'aB' (case).
const merged = ['12', '34', '1234', 'aB'];
const tokens = [...BYTE_TO_UNICODE, ...merged];
const merges = ['1 2', '3 4', '12 34', 'a B'];

function encode(pre: string, text: string): string[] {
  const metadata = new Map<string, GgufValue>([
    ['tokenizer.ggml.model', 'gpt2'],
    ['tokenizer.ggml.pre', pre],
    ['tokenizer.ggml.tokens', tokens],
    ['tokenizer.ggml.token_type', tokens.map(() => 1)],
    ['tokenizer.ggml.merges', merges],
    ['tokenizer.ggml.add_bos_token', false],
  ]);
  const { files } = ggufTokenizer(metadata, 'p.gguf');
  return new Tokenizer(files.tokenizerJson, files.tokenizerConfig).encode(text).ids.map((id: number) => tokens[id]!);
}

// What each family's tokenizer.json regex does to "12345" and "aB": GPT-2 keeps runs of digits and of letters whole;
// Llama 3 / cl100k cut digits in threes; Qwen2, SmolLM and tekken one by one; tekken and o200k split at a capital.
const EXPECTED: Record<string, [string[], string[]]> = {
  default: [['1234', '5'], ['aB']],
  'gpt-2': [['1234', '5'], ['aB']],
  gpt2: [['1234', '5'], ['aB']],
  olmo: [['1234', '5'], ['aB']],
  'llama-bpe': [['12', '3', '4', '5'], ['aB']],
  llama3: [['12', '3', '4', '5'], ['aB']],
  'llama-v3': [['12', '3', '4', '5'], ['aB']],
  'smaug-bpe': [['12', '3', '4', '5'], ['aB']],
  dbrx: [['12', '3', '4', '5'], ['aB']],
  qwen2: [['1', '2', '3', '4', '5'], ['aB']],
  smollm: [['1', '2', '3', '4', '5'], ['aB']],
  tekken: [
    ['1', '2', '3', '4', '5'],
    ['a', 'B'],
  ],
  'gpt-4o': [
    ['12', '3', '4', '5'],
    ['a', 'B'],
  ],
};

test('every supported pre-tokenizer splits digits and letter case as its tokenizer.json does', () => {
  assert.deepEqual(Object.keys(EXPECTED).sort(), [...SUPPORTED_GGUF_PRE_TOKENIZERS].sort(), 'each supported name has expectations');
  for (const pre of SUPPORTED_GGUF_PRE_TOKENIZERS) {
    const [digits, letters] = EXPECTED[pre]!;
    assert.deepEqual(encode(pre, '12345'), digits, `${pre}: "12345"`);
    assert.deepEqual(encode(pre, 'aB'), letters, `${pre}: "aB"`);
  }
});

test('an unknown pre-tokenizer is refused with the supported list', () => {
  assert.throws(
    () => encode('chatglm-bpe', 'x'),
    /p\.gguf: metadata "tokenizer\.ggml\.pre" value "chatglm-bpe" is not supported: .*\(supported: default, .*tekken, gpt-4o\)/,
  );
});
