import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenizerFiles } from '@tessera/model-files';
import { ChatTemplate } from './chat-template.ts';
import { IncrementalDetokenizer } from './detokenizer.ts';
import { TextTokenizer } from './tokenizer.ts';
import { syntheticByteLevelFiles, syntheticSentencePieceFiles } from '@tessera/testing';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sharedDir = path.resolve(repoRoot, '..', 'shared');
const hfDir = path.join(sharedDir, 'models', 'stories260K', 'hf');
const fixturePath = path.join(sharedDir, 'fixtures', 'stories260K-greedy.json');
const haveShared = existsSync(path.join(hfDir, 'tokenizer.json')) && existsSync(fixturePath);
const SKIP = '../shared (stories260K) not present';

function storiesFiles(): TokenizerFiles {
  const readJson = (name: string) => JSON.parse(readFileSync(path.join(hfDir, name), 'utf8')) as Record<string, unknown>;
  const tokenizerConfig = readJson('tokenizer_config.json');
  const template = tokenizerConfig.chat_template;
  return { tokenizerJson: readJson('tokenizer.json'), tokenizerConfig, chatTemplate: typeof template === 'string' ? template : null };
}

test('synthetic SentencePiece: BOS from the post-processor, or from add_bos_token when there is none', () => {
  const withPost = TextTokenizer.fromFiles(syntheticSentencePieceFiles());
  const without = TextTokenizer.fromFiles(syntheticSentencePieceFiles({ postProcessor: false }));
  const ids = withPost.encode('Hello world');
  assert.equal(ids[0], 1);
  assert.equal(ids.filter((id) => id === 1).length, 1, 'BOS exactly once');
  assert.deepEqual(without.encode('Hello world'), ids);
  assert.deepEqual(withPost.encode('Hello world', { addSpecialTokens: false }), ids.slice(1));
  assert.deepEqual(without.encode('Hello world', { addSpecialTokens: false }), ids.slice(1));
  const eosOnly = TextTokenizer.fromFiles(syntheticSentencePieceFiles({ postProcessor: false, addBosToken: false, addEosToken: true }));
  assert.deepEqual(eosOnly.encode('Hello world'), [...ids.slice(1), 2]);
  assert.equal(eosOnly.eosToken, '</s>', 'eos_token given as an {content} object');
});

test('synthetic tokenizers: special tokens, piece text and bytes', () => {
  const sp = TextTokenizer.fromFiles(syntheticSentencePieceFiles());
  assert.equal(sp.bosTokenId, 1);
  assert.equal(sp.eosTokenId, 2);
  assert.equal(sp.bosToken, '<s>');
  assert.ok(sp.isSpecial(1) && sp.isSpecial(2) && !sp.isSpecial(3));
  const hello = sp.tokenId('▁Hello')!;
  assert.equal(sp.tokenText(hello), ' Hello');
  assert.equal(sp.decode([hello]), 'Hello', 'decode() alone strips the leading space; tokenText does not');
  assert.deepEqual(sp.tokenBytes(sp.tokenId('<0xE6>')!), [0xe6]);
  assert.deepEqual(sp.tokenBytes(sp.tokenId('é')!), [0xc3, 0xa9]);
  assert.equal(sp.decode(sp.encode('Hello the world, é 日本 🙂!'), { skipSpecialTokens: true }), 'Hello the world, é 日本 🙂!');

  const bl = TextTokenizer.fromFiles(syntheticByteLevelFiles());
  assert.equal(bl.vocabSize, bl.eosTokenId! + 1);
  assert.equal(bl.tokenText(bl.tokenId('Ġthe')!), ' the');
  assert.deepEqual(bl.tokenBytes(bl.tokenId('æĹ')!), [0xe6, 0x97]);
  assert.equal(bl.tokenText(bl.tokenId('æĹ')!), '\uFFFD');
  const ids = bl.encode('the world 日本');
  assert.equal(ids[0], bl.bosTokenId);
  assert.equal(bl.decode(ids, { skipSpecialTokens: true }), 'the world 日本');
  // tokenizer_config asks for clean-up of tokenization spaces; decode honours it unless told otherwise.
  assert.equal(bl.decode(bl.encode('a , b', { addSpecialTokens: false })), 'a, b');
  assert.equal(bl.decode(bl.encode('a , b', { addSpecialTokens: false }), { cleanUpTokenizationSpaces: false }), 'a , b');
});

test('stories260K: encode, special tokens and token text', (t) => {
  if (!haveShared) return t.skip(SKIP);
  const tok = TextTokenizer.fromFiles(storiesFiles());
  assert.deepEqual(tok.encode('Once upon a time'), [1, 403, 407, 261, 378]);
  assert.deepEqual(tok.encode('Once upon a time', { addSpecialTokens: false }), [403, 407, 261, 378]);
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.bosTokenId, 1);
  assert.equal(tok.eosTokenId, 2);
  assert.equal(tok.eosToken, '</s>');
  const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as { first_token_top3_logprobs: { id: number; text: string }[] };
  for (const top of fixture.first_token_top3_logprobs) assert.equal(tok.tokenText(top.id), top.text);
});

test('stories260K: greedy ids stream to exactly the fixture text', (t) => {
  if (!haveShared) return t.skip(SKIP);
  const tok = TextTokenizer.fromFiles(storiesFiles());
  const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as {
    prompt_ids_with_bos: number[];
    greedy_ids: number[];
    greedy_text: string;
  };
  const detok = new IncrementalDetokenizer(tok, { promptIds: fixture.prompt_ids_with_bos });
  const chunks = fixture.greedy_ids.map((id) => detok.push(id));
  assert.equal(chunks.join('') + detok.flush(), fixture.greedy_text);
  assert.ok(
    chunks.every((chunk) => chunk.length > 0),
    'ASCII tokens each produce text at once',
  );
  // Prompt context matters: the second token alone would lose its leading space.
  const continuing = new IncrementalDetokenizer(tok, { promptIds: [...fixture.prompt_ids_with_bos, fixture.greedy_ids[0]!] });
  assert.equal(continuing.push(fixture.greedy_ids[1]!), ' there');
});

test('stories260K: an emoji spelled with byte-fallback tokens streams intact', (t) => {
  if (!haveShared) return t.skip(SKIP);
  const tok = TextTokenizer.fromFiles(storiesFiles());
  const prompt = tok.encode('She said');
  const generated = tok.encode('She said 🙂 and 日本.', { addSpecialTokens: false }).slice(prompt.length - 1);
  assert.ok(generated.filter((id) => id >= 3 && id <= 258).length >= 10, 'emoji and CJK use byte tokens');
  const detok = new IncrementalDetokenizer(tok, { promptIds: prompt });
  const chunks = generated.map((id) => detok.push(id));
  chunks.push(detok.flush());
  assert.equal(chunks.join(''), ' 🙂 and 日本.');
  assert.ok(chunks.includes('🙂'));
  assert.ok(chunks.every((c) => !c.includes('\uFFFD')));
});

test('stories260K: the hf chat template renders BOS and the contents joined by newlines', (t) => {
  if (!haveShared) return t.skip(SKIP);
  const files = storiesFiles();
  const tok = TextTokenizer.fromFiles(files);
  const template = new ChatTemplate(files.chatTemplate);
  const text = template.render(
    [
      { role: 'user', content: 'Tell me a story.' },
      { role: 'assistant', content: 'Once upon a time' },
    ],
    { bosToken: tok.bosToken, eosToken: tok.eosToken },
  );
  assert.equal(text, '<s>Tell me a story.\nOnce upon a time');
  const ids = tok.encode(text, { addSpecialTokens: false });
  assert.equal(ids[0], 1);
  assert.equal(ids.filter((id) => id === 1).length, 1, 'the template supplies the only BOS');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), 'Tell me a story.\nOnce upon a time');
});

test('stories260K: encode speed on a ~2000-token text', (t) => {
  if (!haveShared) return t.skip(SKIP);
  const sentences = [
    'Once upon a time, there was a little girl named Lily.',
    'She loved to play outside in the park with her friend Tom.',
    'One day, they found a big red ball under a tree.',
    '"Can we keep it?" asked Tom, and his mom smiled.',
    'They played until the sun went down, happy and tired.',
  ];
  const words: string[] = [];
  for (let i = 0; words.length < 900; i++)
    words.push(...sentences[(i * 7) % sentences.length]!.split(' ').map((w, j) => (j % 3 === i % 3 ? w.toUpperCase() : w)));
  const text = words.join(' ');
  const cold = TextTokenizer.fromFiles(storiesFiles());
  let start = performance.now();
  const ids = cold.encode(text);
  const coldMs = performance.now() - start;
  start = performance.now();
  const runs = 20;
  for (let i = 0; i < runs; i++) cold.encode(text);
  const warmMs = (performance.now() - start) / runs;
  assert.ok(ids.length > 1500 && ids.length < 3500, `got ${ids.length} tokens`);
  assert.equal(cold.decode(ids, { skipSpecialTokens: true }), text);
  t.diagnostic(`encode ${ids.length} tokens: first ${coldMs.toFixed(1)} ms, warm ${warmMs.toFixed(2)} ms`);
});
