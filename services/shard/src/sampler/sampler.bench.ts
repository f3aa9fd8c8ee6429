// @module Bench: one row's token choice (TokenChooser.choose) per sampling setting, at a 32 000-token vocabulary.
// Run: node --import tsx services/shard/src/sampler/sampler.bench.ts [--vocab 32000] [--rows 2000]
import type { NextTokenChooserParameters } from '@tessera/protocol';
import { logSumExp, TokenChooser } from './sampler.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const V = arg('vocab', 32000);
const ROWS = arg('rows', 2000);
const base: NextTokenChooserParameters = {
  temperature: 0,
  topK: 0,
  topP: 0,
  typicalP: 0,
  doSample: false,
  seed: 7,
  repetitionPenalty: 0,
  frequencyPenalty: 0,
  presencePenalty: 0,
  minP: 0,
  logitBias: {},
};
const settings: Array<[string, Partial<NextTokenChooserParameters>]> = [
  ['greedy', {}],
  ['temperature 1', { doSample: true, temperature: 1 }],
  ['temperature 0.7', { doSample: true, temperature: 0.7 }],
  ['temperature 0.7, top_p 0.9', { doSample: true, temperature: 0.7, topP: 0.9 }],
  ['temperature 0.7, top_k 50', { doSample: true, temperature: 0.7, topK: 50 }],
  ['temperature 0.7, min_p 0.05', { doSample: true, temperature: 0.7, minP: 0.05 }],
  ['greedy, repetition penalty 1.1', { repetitionPenalty: 1.1 }],
];
// Logits shaped like a language model's: a few strong candidates over a long low tail.
let state = 12345;
const rand = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
const rows = Array.from({ length: 16 }, () => Float32Array.from({ length: V }, () => rand() * 8 - 4 + (rand() < 0.001 ? 12 : 0)));
const lses = rows.map((r) => logSumExp(r));
for (const [name, extra] of settings) {
  const chooser = new TokenChooser(
    { ...base, ...extra },
    Array.from({ length: 200 }, (_, i) => i * 13),
  );
  for (let i = 0; i < 50; i++) chooser.choose(rows[i % 16]!, 0, [], lses[i % 16]);
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROWS; i++) chooser.choose(rows[i % 16]!, 0, [], lses[i % 16]);
  const us = Number(process.hrtime.bigint() - started) / 1e3 / ROWS;
  console.log(`${name.padEnd(34)} ${us.toFixed(1).padStart(7)} µs per row (${((us * 32) / 1000).toFixed(2)} ms per batch-32 step)`);
}
