// @module CLI: write a generated model directory (`node --import tsx …/cli.ts --preset 50m --out DIR`).

import { parseArgs } from 'node:util';
import { DEFAULT_GENERATED_SEED, writeGeneratedModel } from './generate.ts';
import { GENERATED_PRESET_NAMES, type GeneratedModelOverrides } from './presets.ts';

const USAGE = `usage: cli.ts --out DIR [--preset ${GENERATED_PRESET_NAMES.join('|')}] [--seed N]
              [--layers N] [--hidden N] [--heads N] [--kv-heads N] [--ffn N] [--vocab N]
              [--max-positions N] [--tie-embeddings] [--attention-bias]`;

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    preset: { type: 'string', default: 'tiny' },
    seed: { type: 'string', default: String(DEFAULT_GENERATED_SEED) },
    layers: { type: 'string' },
    hidden: { type: 'string' },
    heads: { type: 'string' },
    'kv-heads': { type: 'string' },
    ffn: { type: 'string' },
    vocab: { type: 'string' },
    'max-positions': { type: 'string' },
    'tie-embeddings': { type: 'boolean' },
    'attention-bias': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

function integer(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) throw new Error(`--${flag} must be an integer (got "${text}")`);
  return value;
}

async function main(): Promise<void> {
  if (values.help || !values.out) {
    console.log(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const overrides: GeneratedModelOverrides = {
    numLayers: integer('layers', values.layers),
    hiddenSize: integer('hidden', values.hidden),
    numHeads: integer('heads', values.heads),
    numKvHeads: integer('kv-heads', values['kv-heads']),
    intermediateSize: integer('ffn', values.ffn),
    vocabSize: integer('vocab', values.vocab),
    maxPositionEmbeddings: integer('max-positions', values['max-positions']),
    tieWordEmbeddings: values['tie-embeddings'],
    attentionBias: values['attention-bias'],
  };
  const dir = await writeGeneratedModel(values.out, {
    preset: values.preset,
    seed: integer('seed', values.seed),
    overrides,
    onProgress: (message) => console.log(message),
  });
  console.log(dir);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
