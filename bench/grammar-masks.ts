// Constrained decoding costs (issue 17): grammar engine start-up, compile time (cold and cached), mask time per token
// while writing a valid document, and the sampler's cost of applying a mask, at vocabularies of 512, 32k and 150k.
// Usage: npm run bench:grammar
import fs from 'node:fs';
import { allowed, ConstraintCompiler, type Constraint, GrammarMatchers } from '@tessera/grammar';
import type { GrammarVocabulary } from '@tessera/tokenization';
import { argmax, maskedArgmax } from '../services/shard/src/sampler/sampler.ts';
import { applyMask } from '../services/shard/src/sampler/logits-processors.ts';

interface BenchVocab {
  name: string;
  vocab: GrammarVocabulary;
  /** Each id's text (what the walk matches against the target document). */
  text: string[];
  eos: number;
}

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

/** SentencePiece-like (byte fallback, ▁ for space), 32k. */
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
    name: `SentencePiece-like ${(size / 1000).toFixed(0)}k`,
    vocab: { pieces: pieces.map((p, i) => (i < 3 ? '' : p)), kind: 'byte_fallback' },
    text,
    eos: 2,
  };
}

/** GPT-2 byte-level BPE-like (Ġ for space), 150k. */
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
  return { name: `byte-level BPE-like ${(size / 1000).toFixed(0)}k`, vocab: { pieces, kind: 'byte_level' }, text, eos: pieces.length - 1 };
}

/** stories260K's own 512-token vocabulary, when ../shared is there. */
function stories(): BenchVocab | null {
  const file = new URL('../../shared/models/stories260K/hf/tokenizer.json', import.meta.url);
  if (!fs.existsSync(file)) return null;
  const vocab = JSON.parse(fs.readFileSync(file, 'utf8')).model.vocab as Record<string, number>;
  const pieces: string[] = [];
  for (const [p, id] of Object.entries(vocab)) pieces[id] = p;
  const text = pieces.map((p) => (/^<0x[0-9A-F]{2}>$/.test(p) ? String.fromCharCode(parseInt(p.slice(3, 5), 16)) : p.replaceAll('▁', ' ')));
  return { name: 'stories260K (real, 512)', vocab: { pieces: pieces.map((p, i) => (i < 3 ? '' : p)), kind: 'byte_fallback' }, text, eos: 2 };
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
/** The same fields as a pydantic model without bounds would give: no maxLength, no minimum/maximum. */
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
const DOCUMENT = '{"name": "ada lovelace", "age": 36, "pet": "cat", "tags": ["math", "poet"], "active": true, "address": {"city": "london", "zip": "10115"}}';

const ms = (ns: bigint | number) => Number(ns) / 1e6;
const now = () => process.hrtime.bigint();
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function benchVocab(v: BenchVocab, compiler: ConstraintCompiler) {
  let t = now();
  const matchers = await GrammarMatchers.create(v.vocab, v.vocab.pieces.length);
  const setupMs = ms(now() - t);
  const wire = await compiler.wire({ type: 'json_schema', schema: SCHEMA });
  t = now();
  const first = await matchers.matcher(wire, [v.eos]);
  const compileMs = ms(now() - t);
  t = now();
  const second = await matchers.matcher(wire, [v.eos]);
  const cachedMs = ms(now() - t);
  second.dispose();
  const others: Record<string, Constraint> = {
    plain: { type: 'json_schema', schema: PLAIN_SCHEMA },
    json_object: { type: 'json_object' },
    regex: { type: 'regex', pattern: '[A-Z][a-z]{2,8} [0-9]{3}-[0-9]{4}' },
  };
  const otherMs: Record<string, number> = {};
  for (const [k, c] of Object.entries(others)) {
    const w = await compiler.wire(c);
    t = now();
    (await matchers.matcher(w, [v.eos])).dispose();
    otherMs[k] = ms(now() - t);
  }
  // Walk: at each step take the allowed token that covers most of what is left of the document.
  const maskTimes: number[] = [];
  let rest = DOCUMENT;
  let tokens = 0;
  while (!first.terminated && tokens < 400) {
    t = now();
    const mask = await first.mask();
    maskTimes.push(ms(now() - t));
    let best = -1;
    let bestLen = 0;
    if (rest.length === 0) best = v.eos;
    else
      for (let id = 0; id < v.text.length; id++) {
        const s = v.text[id]!;
        if (s.length > bestLen && rest.startsWith(s) && allowed(mask, id)) {
          best = id;
          bestLen = s.length;
        }
      }
    if (best < 0) throw new Error(`${v.name}: no allowed token continues ${JSON.stringify(rest.slice(0, 20))}`);
    if (!first.accept(best)) throw new Error(`${v.name}: the grammar refused ${best}`);
    rest = rest.slice(bestLen);
    tokens++;
  }
  first.dispose();
  // The sampler's side: a mask applied to one logits row, against plain argmax.
  const row = Float32Array.from({ length: v.vocab.pieces.length }, (_, i) => Math.sin(i * 12.9898) * 4);
  const mask = await (await matchers.matcher(wire, [v.eos])).mask();
  const reps = 200;
  t = now();
  for (let i = 0; i < reps; i++) argmax(row);
  const argmaxMs = ms(now() - t) / reps;
  t = now();
  for (let i = 0; i < reps; i++) maskedArgmax(row, mask);
  const maskedMs = ms(now() - t) / reps;
  const scores = Float64Array.from(row);
  t = now();
  for (let i = 0; i < reps; i++) applyMask(scores, mask);
  const applyMs = ms(now() - t) / reps;
  return { setupMs, compileMs, cachedMs, otherMs, tokens, maskTimes, argmaxMs, maskedMs, applyMs };
}

const compiler = new ConstraintCompiler();
const vocabs = [stories(), sentencePiece(32_000), byteLevel(150_000)].filter((v): v is BenchVocab => v !== null);
console.log(`node ${process.version}, ${(await import('node:os')).cpus()[0]?.model ?? '?'} × ${(await import('node:os')).cpus().length}\n`);
console.log(
  '| vocabulary | engine start | schema compile (cold / cached) | same schema without bounds / json_object / regex compile | tokens walked | mask per token mean / p50 / p99 | sampler: argmax / masked argmax / applyMask |',
);
console.log('|---|---|---|---|---|---|---|');
for (const v of vocabs) {
  const r = await benchVocab(v, compiler);
  const mean = r.maskTimes.reduce((a, b) => a + b, 0) / r.maskTimes.length;
  console.log(
    `| ${v.name} | ${r.setupMs.toFixed(0)} ms | ${r.compileMs.toFixed(1)} / ${r.cachedMs.toFixed(2)} ms | ${r.otherMs.plain!.toFixed(1)} / ${r.otherMs.json_object!.toFixed(1)} / ${r.otherMs.regex!.toFixed(1)} ms | ${r.tokens} | ` +
      `${mean.toFixed(3)} / ${pct(r.maskTimes, 0.5).toFixed(3)} / ${pct(r.maskTimes, 0.99).toFixed(3)} ms | ${r.argmaxMs.toFixed(3)} / ${r.maskedMs.toFixed(3)} / ${r.applyMs.toFixed(3)} ms |`,
  );
}
