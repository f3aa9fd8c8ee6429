// @module MoE step graphs (Mixtral, Qwen3-MoE; float and quantized experts; TP = 1 and 2) against the fp64 reference of moe-fp64.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadedModel, ModelConfig } from '@tessera/model-files';
import { ReferenceMoeMlp } from '@tessera/testing';
import { randomLlamaModel, randomQuantizedModel } from '@tessera/testing';
import { checkAgainstReference as check, maxAbsDiff, PROMPTS, referenceOf } from './step-compare.ts';
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-moe-ref-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
const checkAgainstReference = (model: LoadedModel, world: number) => check(cacheDir, model, world);

/** Mixtral: 4 experts, top-2, always renormalised; experts 64 wide, so a TP=2 slice is whole 32-column blocks. */
const MIXTRAL: Partial<ModelConfig> = {
  architecture: 'MixtralForCausalLM',
  intermediateSize: 64,
  moe: { numExperts: 4, topK: 2, expertIntermediateSize: 64, normTopK: true, denseLayers: [] },
};
/** Qwen3-MoE: qk-norm, 8 experts top-3 without renormalisation, layer 1 dense (mlp_only_layers). */
const QWEN3_MOE: Partial<ModelConfig> = {
  architecture: 'Qwen3MoeForCausalLM',
  numLayers: 3,
  qkNorm: 'head',
  ropeTheta: 1_000_000,
  moe: { numExperts: 8, topK: 3, expertIntermediateSize: 32, normTopK: false, denseLayers: [1] },
};

/** 4-bit (block 32, with offsets, like Q4_K's mins) experts in even layers, 8-bit in odd ones; router and attention float. */
const quantizedExperts = (model: Partial<ModelConfig>, seed: number) =>
  randomQuantizedModel(model, seed, (name) => {
    if (!/\.experts\.\d+\./.test(name)) return null;
    const layer = Number(/layers\.(\d+)\./.exec(name)![1]);
    return layer % 2 === 0 ? { bits: 4, blockSize: 32, offsets: true } : { bits: 8, blockSize: 32, offsets: false };
  });

describe('MoE step graph vs fp64 reference', () => {
  test('Mixtral (4 experts, top-2, renormalised): ragged prefill and decode within 1e-4', async () => {
    await checkAgainstReference(randomLlamaModel(MIXTRAL, 11), 1);
  });

  test('Qwen3-MoE (qk-norm, top-3 of 8 not renormalised, a dense layer between sparse ones) within 1e-4', async () => {
    await checkAgainstReference(randomLlamaModel(QWEN3_MOE, 12), 1);
  });

  test('quantized experts (4-bit with offsets, 8-bit) run quantized and match the reference of their exact expansion', async () => {
    await checkAgainstReference(quantizedExperts(MIXTRAL, 13), 1);
  });

  test('TP=2 (every rank a slice of every expert) matches the reference, float and quantized experts', async () => {
    await checkAgainstReference(randomLlamaModel(MIXTRAL, 11), 2);
    await checkAgainstReference(quantizedExperts(MIXTRAL, 13), 2);
    await checkAgainstReference(randomLlamaModel(QWEN3_MOE, 12), 2);
  });

  test('float16 graphs (routing still in float32) stay within 0.05 of the reference, TP = 1 and 2', async () => {
    await check(cacheDir, randomLlamaModel(MIXTRAL, 11), 1, 0.05, 'float16');
    await check(cacheDir, randomLlamaModel(QWEN3_MOE, 12), 2, 0.05, 'float16');
  });

  test('the routing matters: renormalising the top-k changes the logits, so the test above can fail', () => {
    const model = randomLlamaModel(QWEN3_MOE, 12);
    const renormalised = randomLlamaModel({ ...QWEN3_MOE, moe: { ...QWEN3_MOE.moe!, normTopK: true } }, 12);
    const a = referenceOf(model).expected[0]!.at(-1)!;
    const b = referenceOf(renormalised).expected[0]!.at(-1)!; // same seed and names: the same weights
    assert.ok(maxAbsDiff(a, b) > 1e-2, `renormalisation changed the logits by only ${maxAbsDiff(a, b)}`);
  });

  test('routing margins of the test rows are far above float32 rounding (no near-tie decides a comparison)', () => {
    const model = randomLlamaModel(MIXTRAL, 11);
    const moe = new ReferenceMoeMlp(model, 0);
    // Rows from the embedding table stand in for layer-0 inputs: a near-tie would show up as a tiny gap.
    const H = model.config.hiddenSize;
    const embed = model.tensor('model.embed_tokens.weight').data;
    let minGap = Infinity;
    for (const id of PROMPTS.flat()) {
      const x = Float64Array.from(embed.subarray(id * H, (id + 1) * H));
      const routed = moe.route(x);
      minGap = Math.min(
        minGap,
        routed.at(-1)!.prob -
          Math.max(
            ...probsOutside(
              moe,
              x,
              routed.map((r) => r.expert),
            ),
          ),
      );
    }
    assert.ok(minGap > 1e-5, `a row's k-th and (k+1)-th expert probabilities differ by ${minGap}`);
  });
});

function probsOutside(moe: ReferenceMoeMlp, x: Float64Array, picked: number[]): number[] {
  const all = moe.probabilities(x);
  return all.filter((_, e) => !picked.includes(e));
}
