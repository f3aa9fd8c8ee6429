import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syntheticByteLevelFiles, syntheticSentencePieceFiles } from '@tessera/testing';
import { TextTokenizer } from '@tessera/tokenization';
import { allowed, allowedCount, type Constraint, ConstraintCompiler, GrammarError, GrammarMatchers, unproductiveRules, Xgrammar } from './index.ts';

const compiler = new ConstraintCompiler();

async function refusal(c: Constraint): Promise<string> {
  try {
    await compiler.wire(c);
  } catch (err) {
    assert.ok(err instanceof GrammarError, `expected a GrammarError, got ${err}`);
    return err.message;
  }
  assert.fail(`${JSON.stringify(c)} was accepted`);
}

test('productivity: a rule that only recurses can never finish; repetitions and alternatives can', () => {
  assert.deepEqual(unproductiveRules('root ::= (("a" root))\nroot_1 ::= ((root))'), ['root', 'root_1']);
  assert.deepEqual(unproductiveRules('root ::= (("a" root) | ("b"))'), []);
  assert.deepEqual(unproductiveRules('root ::= (("x" a*))\na ::= (("y" a))'), ['a']);
  assert.deepEqual(unproductiveRules('root ::= (("x" a+))\na ::= (("y" a))'), ['root', 'a']);
  assert.deepEqual(unproductiveRules('root ::= (("q" "q" [a-z]{2,3})) (=([a-z]))'), []);
  assert.deepEqual(unproductiveRules('root ::= (("\\"" "(" root_1))\nroot_1 ::= (("]" "|"))'), []);
  assert.deepEqual(unproductiveRules('t ::= TagDispatch(\n  ("<a>", g),\n  stop_eos=true\n)\ng ::= (("" g "</a>"))'), ['g']);
});

test('refusals name what is wrong: bad schema type, unsatisfiable bounds, bad regex, undefined rule, endless grammar, endless schema', async () => {
  assert.match(await refusal({ type: 'json_schema', schema: { type: 'objectx' } }), /Unsupported type "objectx"/);
  assert.match(await refusal({ type: 'json_schema', schema: { type: 'string', minLength: 5, maxLength: 2 } }), /minLength 5 is greater than maxLength 2/);
  assert.match(await refusal({ type: 'regex', pattern: '[0-9' }), /Unclosed '\['/);
  assert.match(await refusal({ type: 'grammar', ebnf: 'root ::= "a" missing' }), /Rule "missing" is not defined/);
  assert.match(await refusal({ type: 'grammar', ebnf: 'root ::= "a" root' }), /can never finish: rule `root`/);
  const endless = { type: 'object', properties: { a: { $ref: '#' } }, required: ['a'] };
  assert.match(await refusal({ type: 'json_schema', schema: endless }), /can never finish/);
  // A C++ exception (thrown as a number by the WASM build) is a refusal too, not a crash.
  const tws = {
    type: 'tags_with_separator',
    tags: [{ type: 'tag', begin: '<', content: { type: 'const_string', value: 'a' }, end: '>' }],
    separator: ',',
    at_least_one: true,
  };
  assert.match(
    await refusal({ type: 'structural_tag', format: { type: 'sequence', elements: [tws, { type: 'const_string', value: ']' }] } as never }),
    /could not compile/,
  );
  // The engine keeps working after native aborts.
  assert.match(await compiler.wire({ type: 'choice', choices: ['yes', 'no'] }), /const_string/);
});

test('the same constraint compiles once (cached by value)', async () => {
  const c: Constraint = { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'integer' } } } };
  assert.equal(compiler.wire(c), compiler.wire(structuredClone(c)));
});

/** Greedy walk: from each mask, take the lowest allowed id whose piece is in `prefer` order, else the lowest allowed. */
async function walk(matchers: GrammarMatchers, tok: TextTokenizer, wire: string, choose: (ids: number[]) => number, maxSteps = 64) {
  const eos = tok.eosTokenId!;
  const m = await matchers.matcher(wire, [eos]);
  const out: number[] = [];
  for (let step = 0; step < maxSteps && !m.terminated; step++) {
    const mask = await m.mask();
    const ids: number[] = [];
    for (let id = 0; id < matchers.vocabSize; id++) if (allowed(mask, id)) ids.push(id);
    assert.ok(ids.length > 0, 'a live matcher allows some token');
    const id = choose(ids);
    assert.ok(m.accept(id));
    if (id !== eos) out.push(id);
  }
  m.dispose();
  return { text: tok.decode(out), terminated: m.terminated };
}

for (const [name, files] of [
  ['sentencepiece (byte fallback)', syntheticSentencePieceFiles()],
  ['byte-level BPE', syntheticByteLevelFiles()],
] as const) {
  test(`masks over a ${name} vocabulary: every walk through a schema yields valid JSON, then EOS`, async () => {
    const tok = TextTokenizer.fromFiles(files);
    const vocab = tok.grammarVocabulary();
    const matchers = await GrammarMatchers.create(vocab, tok.vocabSize + 3); // padded logits rows
    const schema = {
      type: 'object',
      properties: { name: { type: 'string', maxLength: 4 }, n: { type: 'integer', minimum: 0, maximum: 99 } },
      required: ['name', 'n'],
    };
    const wire = await compiler.wire({ type: 'json_schema', schema });
    let seed = 7;
    // Random among the allowed ids whose text is ASCII: xgrammar admits any UTF-8-shaped byte run
    // (surrogates and overlong forms too), which decodes to several U+FFFD and breaks maxLength as
    // JavaScript counts it; a trained model does not emit those.
    const ascii = (id: number) => /^[\x20-\x7e]*$/.test(tok.decode([id])) || id === tok.eosTokenId;
    const random = (ids: number[]) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const pool = ids.filter(ascii);
      return (pool.length > 0 ? pool : ids)[seed % (pool.length > 0 ? pool.length : ids.length)]!;
    };
    for (let i = 0; i < 5; i++) {
      const { text, terminated } = await walk(matchers, tok, wire, random, 200);
      assert.ok(terminated, `walk ${i} ended with EOS (${JSON.stringify(text)})`);
      const value = JSON.parse(text);
      assert.equal(typeof value.name, 'string');
      assert.ok(value.name.length <= 4 && Number.isInteger(value.n) && value.n >= 0 && value.n <= 99, text);
      assert.deepEqual(Object.keys(value), ['name', 'n']);
    }
    // Padding rows past the tokenizer and special tokens are never allowed.
    const m = await matchers.matcher(await compiler.wire({ type: 'json_object' }), [tok.eosTokenId!]);
    const mask = await m.mask();
    for (let id = tok.vocabSize; id < tok.vocabSize + 3; id++) assert.equal(allowed(mask, id), false);
    assert.equal(allowed(mask, tok.eosTokenId!), false, 'EOS before the JSON is complete');
    assert.ok(allowedCount(mask, matchers.vocabSize) >= 1);
    m.dispose();
  });
}

test('regex and choice walks end exactly on a match', async () => {
  const tok = TextTokenizer.fromFiles(syntheticSentencePieceFiles());
  const matchers = await GrammarMatchers.create(tok.grammarVocabulary(), tok.vocabSize);
  const first = (ids: number[]) => ids[0]!;
  const last = (ids: number[]) => ids.filter((id) => id !== tok.eosTokenId).at(-1) ?? ids[0]!;
  const re = await walk(matchers, tok, await compiler.wire({ type: 'regex', pattern: '[0-9]{3}-(ab|cd)' }), last, 40);
  assert.match(re.text, /^[0-9]{3}-(ab|cd)$/);
  for (const choose of [first, last]) {
    const c = await walk(matchers, tok, await compiler.wire({ type: 'choice', choices: ['yes', 'no', 'maybe'] }), choose, 40);
    assert.ok(['yes', 'no', 'maybe'].includes(c.text), c.text);
    assert.ok(c.terminated);
  }
});

test('integer ranges accept exactly [minimum, maximum] (xgrammar 0.1.27 admits 121..129 for a maximum of 120 without the split)', async () => {
  const xg = new Xgrammar();
  for (const [lo, hi] of [
    [0, 120],
    [15, 130],
    [0, 100],
    [-20, 35],
    [7, 310],
    [120, 120],
    [-130, -10],
  ] as const) {
    const wire = await compiler.wire({ type: 'json_schema', schema: { type: 'integer', minimum: lo, maximum: hi } });
    const grammar = await xg.lib.Grammar.fromStructuralTag(wire);
    const wrong: number[] = [];
    for (let n = lo - 15; n <= hi + 15; n++) if ((await xg.lib.Testings.isGrammarAcceptString(grammar, String(n))) !== (n >= lo && n <= hi)) wrong.push(n);
    grammar.dispose();
    assert.deepEqual(wrong, [], `[${lo}, ${hi}]`);
  }
});
