import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncrementalDetokenizer } from './detokenizer.ts';
import { TextTokenizer } from './tokenizer.ts';
import { syntheticByteLevelFiles, syntheticSentencePieceFiles } from '@tessera/testing';

const TEXTS = ['Hello the world', 'é 日本 🙂!', 'the 🙂🙂 world, 日本日本 é é.', '日本', '  two  spaces  '];

const tokenizers = {
  'SentencePiece byte-fallback': TextTokenizer.fromFiles(syntheticSentencePieceFiles()),
  'byte-level BPE': TextTokenizer.fromFiles(syntheticByteLevelFiles()),
};

function stream(tok: TextTokenizer, ids: number[], opts: ConstructorParameters<typeof IncrementalDetokenizer>[1] = {}) {
  const detok = new IncrementalDetokenizer(tok, opts);
  const chunks = ids.map((id) => detok.push(id));
  chunks.push(detok.flush());
  return chunks;
}

for (const [name, tok] of Object.entries(tokenizers)) {
  test(`${name}: streamed chunks join to decode(all), without U+FFFD`, () => {
    for (const text of TEXTS) {
      const ids = tok.encode(text);
      for (const skipSpecialTokens of [true, false]) {
        const chunks = stream(tok, ids, { skipSpecialTokens });
        const full = tok.decode(ids, { skipSpecialTokens });
        assert.equal(chunks.join(''), full, `${JSON.stringify(text)} skip=${skipSpecialTokens}`);
        assert.ok(!full.includes('\uFFFD'));
        for (const chunk of chunks) assert.ok(!chunk.includes('\uFFFD'), `chunk ${JSON.stringify(chunk)} of ${JSON.stringify(text)}`);
      }
    }
  });

  test(`${name}: a multi-byte character is held back until its last byte arrives`, () => {
    const all = tok.encode('Hello the🙂');
    const ids = all.slice(-5); // " the" and the emoji's four bytes
    assert.deepEqual(
      ids.map((id) => tok.tokenText(id)),
      [' the', '\uFFFD', '\uFFFD', '\uFFFD', '\uFFFD'],
    );
    const detok = new IncrementalDetokenizer(tok, { promptIds: all.slice(0, -5) });
    const out = ids.map((id) => detok.push(id));
    assert.deepEqual(out.slice(-4), ['', '', '', '🙂']);
    assert.equal(out.join(''), ' the🙂');
    assert.equal(detok.flush(), '');
  });

  test(`${name}: continuing a prompt keeps the first token's leading space`, () => {
    const text = 'Hello the world, é 日本 🙂!';
    const all = tok.encode(text);
    const fullText = tok.decode(all, { skipSpecialTokens: true });
    let checked = 0;
    for (let split = 1; split < all.length; split++) {
      const promptText = tok.decode(all.slice(0, split), { skipSpecialTokens: true });
      if (!fullText.startsWith(promptText) || promptText.endsWith('\uFFFD')) continue; // split inside a character
      const chunks = stream(tok, all.slice(split), { promptIds: all.slice(0, split) });
      assert.equal(chunks.join(''), fullText.slice(promptText.length), `split at ${split}`);
      checked++;
    }
    assert.ok(checked >= 5);
  });

  test(`${name}: an incomplete sequence that never completes is emitted by flush`, () => {
    const lead = tok.encode('日', { addSpecialTokens: false }).filter((id) => tok.tokenText(id) === '\uFFFD')[0]!;
    const detok = new IncrementalDetokenizer(tok);
    assert.equal(detok.push(lead), '');
    assert.equal(detok.flush(), '\uFFFD');
    assert.equal(detok.flush(), '');
  });

  test(`${name}: skipped special tokens produce no text`, () => {
    const eos = tok.eosTokenId!;
    const detok = new IncrementalDetokenizer(tok, { promptIds: tok.encode('Hello') });
    assert.equal(detok.push(tok.encode('Hello the', { addSpecialTokens: false }).at(-1)!), ' the');
    assert.equal(detok.push(eos), '');
    assert.equal(detok.flush(), '');
    assert.equal(detok.tokenCount, 2);
  });
}

test('SentencePiece without prompt context: the first token loses its space exactly as decode() does', () => {
  const tok = tokenizers['SentencePiece byte-fallback'];
  const ids = tok.encode(' the world', { addSpecialTokens: false });
  const chunks = stream(tok, ids);
  assert.equal(chunks.join(''), tok.decode(ids));
  assert.equal(chunks[0], tok.decode(ids.slice(0, 1)));
});

test('long streams stay correct after the id buffer is trimmed', () => {
  const tok = tokenizers['SentencePiece byte-fallback'];
  const ids = tok.encode('the 日本 world 🙂 é, '.repeat(40));
  const chunks = stream(tok, ids);
  assert.equal(chunks.join(''), tok.decode(ids, { skipSpecialTokens: true }));
});
