// Constrained decoding costs (issue 17): grammar engine start-up, compile time (cold and cached), mask time per token
// while writing valid documents, and the sampler's cost of applying a mask, at vocabularies from 512 to 150k tokens.
// Usage: npm run bench:grammar
import fs from 'node:fs';
import os from 'node:os';
import { allowed, allowedCount, ConstraintCompiler, type Constraint, GrammarMatchers } from '@tessera/grammar';
import { buildGeneratedTokenizer, GENERATED_SPECIAL_TOKENS } from '@tessera/model-files';
import { type GrammarVocabulary, TextTokenizer } from '@tessera/tokenization';
import { argmax, maskedArgmax } from '../services/shard/src/sampler/sampler.ts';
import { applyMask } from '../services/shard/src/sampler/logits-processors.ts';

interface BenchVocab {
  name: string;
  vocab: GrammarVocabulary;
  /** Each id's text (what the walks match and check against). */
  text: string[];
  eos: number;
}

/** Fresh engines per vocabulary: compile and start-up times are the median of these (the first also warms the JIT). */
const REPEATS = 3;
/** Seeds of the pseudo-random walks per vocabulary. */
const RANDOM_WALKS = 6;

/** Deterministic pseudo-random numbers (mulberry32). */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Texts a real vocabulary has: JSON punctuation runs, numbers, words with and without a leading space, then random n-grams. */
function texts(size: number, seed: number): string[] {
  const out = new Set<string>();
  for (const p of ['{', '}', '[', ']', '"', ':', ',', '{"', '":', '", "', '": "', '": ', ', "', '"}', '"]', '["', 'true', 'false', 'null', ' ']) out.add(p);
  for (let n = 0; n < 1000; n++) out.add(String(n));
  const rand = prng(seed);
  const letters = 'etaoinshrdlucmfwypvbgkqjxz';
  while (out.size < size) {
    const len = 1 + Math.floor(rand() * 9);
    let w = '';
    for (let i = 0; i < len; i++) w += letters[Math.min(letters.length - 1, Math.floor(-Math.log(1 - rand()) * 6))];
    out.add(rand() < 0.5 ? ` ${w}` : w);
  }
  return [...out];
}

/** SentencePiece-like (byte fallback, ▁ for space), generated. */
function sentencePiece(size: number): BenchVocab {
  const pieces = ['<unk>', '<s>', '</s>'];
  const text = ['', '', ''];
  for (let b = 0; b < 256; b++) {
    pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    text.push(b < 128 ? String.fromCharCode(b) : '\uFFFD');
  }
  for (const t of texts(size - pieces.length, 1)) {
    pieces.push(t.replaceAll(' ', '▁'));
    text.push(t);
  }
  return {
    name: `SentencePiece-like ${(size / 1000).toFixed(0)}k (generated)`,
    vocab: { pieces: pieces.map((p, i) => (i < 3 ? '' : p)), kind: 'byte_fallback' },
    text,
    eos: 2,
  };
}

/** GPT-2 byte-level BPE-like (Ġ for space), generated. */
function byteLevel(size: number): BenchVocab {
  const table: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table.push(printable ? String.fromCharCode(b) : String.fromCharCode(256 + next++));
  }
  const pieces: string[] = [];
  const text: string[] = [];
  for (let b = 0; b < 256; b++) {
    pieces.push(table[b]!);
    text.push(b < 128 ? String.fromCharCode(b) : '\uFFFD');
  }
  for (const t of texts(size - 257, 2)) {
    pieces.push([...Buffer.from(t)].map((b) => table[b]).join(''));
    text.push(t);
  }
  pieces.push(''); // EOS (special: blank)
  text.push('');
  return { name: `byte-level BPE-like ${(size / 1000).toFixed(0)}k (generated)`, vocab: { pieces, kind: 'byte_level' }, text, eos: pieces.length - 1 };
}

/** A real tokenizer's vocabulary exactly as the shard hands it to the engine. */
function fromTokenizer(name: string, tok: TextTokenizer): BenchVocab {
  const vocab = tok.grammarVocabulary();
  const text = vocab.pieces.map((p, id) => (p === '' ? '' : tok.tokenText(id)));
  return { name, vocab, text, eos: tok.eosTokenId! };
}

/** stories260K's own 512-token SentencePiece vocabulary, when ../shared is there. */
function stories(): BenchVocab | null {
  const dir = new URL('../../shared/models/stories260K/hf/', import.meta.url);
  if (!fs.existsSync(new URL('tokenizer.json', dir))) return null;
  const read = (f: string) => JSON.parse(fs.readFileSync(new URL(f, dir), 'utf8')) as Record<string, unknown>;
  return fromTokenizer(
    'stories260K (real, 512)',
    TextTokenizer.fromFiles({ tokenizerJson: read('tokenizer.json'), tokenizerConfig: read('tokenizer_config.json'), chatTemplate: null }),
  );
}

/** The generated 50m preset's tokenizer (byte-level BPE trained on the embedded corpus, 32k): what the 50m serving run uses. */
function generated50m(): BenchVocab {
  const { tokenizerJson } = buildGeneratedTokenizer(32_000);
  const tokenizerConfig = { eos_token: GENERATED_SPECIAL_TOKENS.imEnd.content, add_bos_token: false, clean_up_tokenization_spaces: false };
  return fromTokenizer('50m preset (trained byte-level BPE, 32k)', TextTokenizer.fromFiles({ tokenizerJson, tokenizerConfig, chatTemplate: null }));
}

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 24 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    pet: { enum: ['cat', 'dog', 'none'] },
    tags: { type: 'array', items: { type: 'string', maxLength: 12 }, maxItems: 4 },
    active: { type: 'boolean' },
    address: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 20 }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
      required: ['city', 'zip'],
    },
  },
  required: ['name', 'age', 'pet', 'tags', 'active', 'address'],
};
/** The same fields as a pydantic model without bounds would give: no maxLength, no minimum/maximum, no pattern. */
const PLAIN_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer' },
    pet: { enum: ['cat', 'dog', 'none'] },
    tags: { type: 'array', items: { type: 'string' } },
    active: { type: 'boolean' },
    address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string' } }, required: ['city', 'zip'] },
  },
  required: ['name', 'age', 'pet', 'tags', 'active', 'address'],
};
/** Valid documents in the engine's layout (", " and ": " separators, schema order). */
const DOCUMENTS = [
  '{"name": "ada lovelace", "age": 36, "pet": "cat", "tags": ["math", "poet"], "active": true, "address": {"city": "london", "zip": "10115"}}',
  '{"name": "Grace Hopper", "age": 85, "pet": "none", "tags": [], "active": false, "address": {"city": "New York", "zip": "10001"}}',
  '{"name": "x", "age": 0, "pet": "dog", "tags": ["a", "bb", "ccc", "dddd"], "active": true, "address": {"city": "", "zip": "00000"}}',
  '{"name": "the quick brown fox jump", "age": 120, "pet": "cat", "tags": ["lazy dog"], "active": false, "address": {"city": "a city of twenty chr", "zip": "99999"}}',
  '{"name": "O\'Brien, Jr.", "age": 47, "pet": "none", "tags": ["x-ray", "1.5"], "active": true, "address": {"city": "St. Louis", "zip": "63101"}}',
  '{"name": "Zoe", "age": 9, "pet": "dog", "tags": ["kid", "school", "art"], "active": true, "address": {"city": "Paris", "zip": "75001"}}',
];

const ms = (ns: bigint) => Number(ns) / 1e6;
const now = () => process.hrtime.bigint();
const pct = (xs: readonly number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const median = (xs: readonly number[]) => pct(xs, 0.5);

/** One fresh engine: start-up, the schema cold then cached, and the other constraints cold. */
async function compileTimes(v: BenchVocab, wires: Record<'schema' | 'plain' | 'json_object' | 'regex', string>) {
  let t = now();
  const matchers = await GrammarMatchers.create(v.vocab, v.vocab.pieces.length);
  const start = ms(now() - t);
  const timed = async (wire: string) => {
    t = now();
    (await matchers.matcher(wire, [v.eos])).dispose();
    return ms(now() - t);
  };
  const cold = await timed(wires.schema);
  const cached = await timed(wires.schema);
  return { matchers, start, cold, cached, plain: await timed(wires.plain), json_object: await timed(wires.json_object), regex: await timed(wires.regex) };
}

/** Writes one document: at each step the allowed token covering most of what is left (a tokenizer's longest match). */
async function documentWalk(v: BenchVocab, matchers: GrammarMatchers, wire: string, doc: string, times: number[], masks: Int32Array[]) {
  const m = await matchers.matcher(wire, [v.eos]);
  let rest = doc;
  for (let step = 0; !m.terminated; step++) {
    if (step > 400) throw new Error(`${v.name}: no end after 400 tokens`);
    const t = now();
    const mask = await m.mask();
    times.push(ms(now() - t));
    masks.push(mask);
    let best = rest.length === 0 ? v.eos : -1;
    let bestLen = 0;
    for (let id = 0; rest.length > 0 && id < v.text.length; id++) {
      const s = v.text[id]!;
      if (s.length > bestLen && rest.startsWith(s) && allowed(mask, id)) [best, bestLen] = [id, s.length];
    }
    if (best < 0) throw new Error(`${v.name}: no allowed token continues ${JSON.stringify(rest.slice(0, 20))}`);
    if (!m.accept(best)) throw new Error(`${v.name}: the grammar refused ${best}`);
    rest = rest.slice(bestLen);
  }
  m.dispose();
}

/** Samples: a pseudo-random allowed token, printable ASCII preferred, EOS as soon as allowed; the output must parse. */
async function randomWalk(v: BenchVocab, matchers: GrammarMatchers, wire: string, seed: number, ascii: Uint8Array, times: number[]) {
  const rand = prng(seed);
  const m = await matchers.matcher(wire, [v.eos]);
  const picks = new Int32Array(v.text.length);
  let out = '';
  let onlyAscii = true;
  for (let step = 0; !m.terminated; step++) {
    if (step > 1000) throw new Error(`${v.name}: random walk ${seed} did not end`);
    const t = now();
    const mask = await m.mask();
    times.push(ms(now() - t));
    let id = v.eos;
    if (!allowed(mask, v.eos)) {
      let n = 0;
      for (let i = 0; i < v.text.length; i++) if (ascii[i] === 1 && allowed(mask, i)) picks[n++] = i;
      if (n === 0) for (let i = 0; i < v.text.length; i++) if (i !== v.eos && allowed(mask, i)) picks[n++] = i;
      if (n === 0) throw new Error(`${v.name}: a live matcher allows nothing`);
      id = picks[Math.floor(rand() * n)]!;
      if (ascii[id] !== 1) onlyAscii = false;
      out += v.text[id];
    }
    if (!m.accept(id)) throw new Error(`${v.name}: the grammar refused ${id}`);
  }
  m.dispose();
  if (onlyAscii) JSON.parse(out); // a walk within the grammar writes JSON
}

/** Per-call ms of each sampler operation, alternated in rounds (the box is noisy), median over rounds. */
type SamplerOp = 'argmax' | 'maskedSparse' | 'maskedDense' | 'applySparse' | 'applyDense';
function samplerTimes(row: Float32Array, sparse: Int32Array, dense: Int32Array): Record<SamplerOp, number> {
  const ops: Record<SamplerOp, () => void> = {
    argmax: () => argmax(row),
    maskedSparse: () => maskedArgmax(row, sparse),
    maskedDense: () => maskedArgmax(row, dense),
    applySparse: (() => {
      const scores = Float64Array.from(row);
      return () => applyMask(scores, sparse);
    })(),
    applyDense: (() => {
      const scores = Float64Array.from(row);
      return () => applyMask(scores, dense);
    })(),
  };
  const reps = Math.max(20, Math.round(2_000_000 / row.length));
  const rounds: Record<string, number[]> = Object.fromEntries(Object.keys(ops).map((k) => [k, []]));
  for (let round = 0; round < 25; round++) {
    for (const [k, op] of Object.entries(ops)) {
      const t = now();
      for (let i = 0; i < reps; i++) op();
      rounds[k]!.push(ms(now() - t) / reps);
    }
  }
  // The first rounds warm the JIT up.
  return Object.fromEntries(Object.entries(rounds).map(([k, xs]) => [k, median(xs.slice(5))])) as Record<SamplerOp, number>;
}

async function benchVocab(v: BenchVocab, compiler: ConstraintCompiler) {
  const wires = {
    schema: await compiler.wire({ type: 'json_schema', schema: SCHEMA }),
    plain: await compiler.wire({ type: 'json_schema', schema: PLAIN_SCHEMA }),
    json_object: await compiler.wire({ type: 'json_object' } satisfies Constraint),
    regex: await compiler.wire({ type: 'regex', pattern: '[A-Z][a-z]{2,8} [0-9]{3}-[0-9]{4}' }),
  };
  const runs: Awaited<ReturnType<typeof compileTimes>>[] = [];
  for (let r = 0; r < REPEATS; r++) runs.push(await compileTimes(v, wires));
  const compile = Object.fromEntries(
    (['start', 'cold', 'cached', 'plain', 'json_object', 'regex'] as const).map((k) => [k, median(runs.map((x) => x[k]))]),
  ) as Record<'start' | 'cold' | 'cached' | 'plain' | 'json_object' | 'regex', number>;
  const matchers = runs.at(-1)!.matchers;

  const ascii = Uint8Array.from(v.text, (s) => (s !== '' && /^[\x20-\x7e]+$/.test(s) ? 1 : 0));
  // One untimed walk of each kind: the first masks on a fresh process took ms that no later one did (warm-up, not grammar).
  await documentWalk(v, matchers, wires.schema, DOCUMENTS[0]!, [], []);
  await randomWalk(v, matchers, wires.schema, 0, ascii, []);
  const docTimes: number[] = [];
  const masks: Int32Array[] = [];
  for (const doc of DOCUMENTS) await documentWalk(v, matchers, wires.schema, doc, docTimes, masks);
  const randTimes: number[] = [];
  for (let seed = 1; seed <= RANDOM_WALKS; seed++) await randomWalk(v, matchers, wires.schema, seed, ascii, randTimes);

  // The sampler's side on a row of this vocabulary: the first mask ("{" only) and the widest one seen (inside a string).
  const size = v.vocab.pieces.length;
  const widest = masks.reduce((a, b) => (allowedCount(b, size) > allowedCount(a, size) ? b : a));
  const row = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * 4);
  const sampler = samplerTimes(row, masks[0]!, widest);
  return { compile, docTimes, randTimes, sampler, widestAllowed: allowedCount(widest, size), size };
}

const stats = (xs: number[]) =>
  `${xs.length} | ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3)} / ${pct(xs, 0.5).toFixed(3)} / ${pct(xs, 0.99).toFixed(3)} / ${Math.max(...xs).toFixed(2)} ms`;

const compiler = new ConstraintCompiler();
const vocabs = [stories(), generated50m(), sentencePiece(32_000), byteLevel(150_000)].filter((v): v is BenchVocab => v !== null);
const cpu = os.cpus();
console.log(`node ${process.version}, ${cpu[0]?.model ?? '?'} × ${cpu.length}; medians of ${REPEATS} fresh engines per vocabulary\n`);
const results = [];
for (const v of vocabs) results.push({ v, r: await benchVocab(v, compiler) });

console.log('| vocabulary | engine start | schema compile, cold / cached | the same schema without bounds / json_object / regex, cold |');
console.log('|---|---|---|---|');
for (const { v, r } of results) {
  const c = r.compile;
  console.log(
    `| ${v.name} | ${c.start.toFixed(0)} ms | ${c.cold.toFixed(1)} / ${c.cached.toFixed(2)} ms | ${c.plain.toFixed(1)} / ${c.json_object.toFixed(1)} / ${c.regex.toFixed(1)} ms |`,
  );
}
console.log(`\n| vocabulary | walk | masks | mask per token: mean / p50 / p99 / max |`);
console.log('|---|---|---|---|');
for (const { v, r } of results) {
  console.log(`| ${v.name} | ${DOCUMENTS.length} documents, longest match | ${stats(r.docTimes)} |`);
  console.log(`| ${v.name} | ${RANDOM_WALKS} pseudo-random, ASCII first | ${stats(r.randTimes)} |`);
}
console.log('\n| vocabulary | argmax | masked argmax, sparse / wide mask | applyMask, sparse / wide mask | wide mask allows |');
console.log('|---|---|---|---|---|');
for (const { v, r } of results) {
  const s = r.sampler;
  const f = (x: number) => x.toFixed(4);
  console.log(
    `| ${v.name} | ${f(s.argmax)} ms | ${f(s.maskedSparse)} / ${f(s.maskedDense)} ms | ${f(s.applySparse)} / ${f(s.applyDense)} ms | ${r.widestAllowed} of ${r.size} |`,
  );
}
