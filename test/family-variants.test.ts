// @module Published variants of covered families (family-variants.ts): the HF directory and its GGUF read back the same config, window included, and both follow the fp64 reference past the window with the same greedy ids.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadGgufModel, loadHfDir, writeModelAsGguf, type LoadedModel, type ModelConfig } from '@tessera/model-files';
import { FAMILY_VARIANTS } from './reference/family-variants.ts';
import { writeCheckpointHfDir } from './reference/family-checkpoint.ts';
import { maxAbsDiff, PROMPTS, DECODE, referenceOf, runBatched, startRunners, TOLERANCE } from './reference/step-compare.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-variants-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** GGUF keeps LongRoPE's attention factor as float32. */
function roundAttentionFactor(c: ModelConfig): ModelConfig {
  const s = c.ropeScaling;
  return s?.type === 'longrope' ? { ...c, ropeScaling: { ...s, attentionFactor: Math.fround(s.attentionFactor) } } : c;
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** The graph's logits of the step-compare prompts (7 and 3 tokens, then 3 decode steps), each row checked against the reference. */
async function logitsAgainstReference(model: LoadedModel, label: string): Promise<Float32Array[][]> {
  const { expected } = referenceOf(model);
  const { runners, close } = await startRunners(path.join(tmp, 'graphs'), model, 1, 'float32');
  try {
    for (const r of runners) r.allocate(16);
    const got = await runBatched(runners, model.config.vocabSize);
    got.forEach((seq, i) =>
      seq.forEach((row, t) => {
        const d = maxAbsDiff(row, expected[i]![t]!);
        assert.ok(d <= TOLERANCE, `${label}: seq ${i} token ${t} differs from the reference by ${d}`);
      }),
    );
    return got;
  } finally {
    await close();
  }
}

const longest = Math.max(...PROMPTS.map((p, i) => p.length + DECODE[i]!.length));

for (const [name, checkpoint] of Object.entries(FAMILY_VARIANTS)) {
  describe(name, () => {
    const dir = path.join(tmp, name.replace(/\W+/g, '-'));
    const expected = writeCheckpointHfDir(dir, checkpoint, 7);
    let hf: LoadedModel;
    let gguf: LoadedModel;

    test('config.json and the GGUF written from it read back the same config (window, layers, RoPE)', async () => {
      hf = await loadHfDir(dir);
      assert.deepEqual(hf.config, expected);
      const ggufPath = `${dir}.gguf`;
      writeModelAsGguf(hf, ggufPath, 'F32');
      gguf = await loadGgufModel(ggufPath);
      // llama.cpp writes Mistral as arch `llama`, which loads as LlamaForCausalLM (the same graph); the window comes along.
      const architecture = expected.architecture === 'MistralForCausalLM' ? 'LlamaForCausalLM' : expected.architecture;
      assert.deepEqual(roundAttentionFactor(gguf.config), roundAttentionFactor({ ...expected, architecture }));
    });

    test('HF and GGUF: every logit within 1e-4 of the fp64 reference, the same greedy ids', async () => {
      const fromHf = await logitsAgainstReference(hf, 'HF');
      const fromGguf = await logitsAgainstReference(gguf, 'GGUF');
      assert.deepEqual(
        fromGguf.map((seq) => seq.map(argmax)),
        fromHf.map((seq) => seq.map(argmax)),
      );
    });

    if (expected.slidingWindow !== null && expected.slidingWindow < longest) {
      test(`the window (${expected.slidingWindow}) is shorter than the ${longest} positions, so it changes the reference's logits`, () => {
        const full = Object.assign(Object.create(hf) as LoadedModel, { config: { ...hf.config, slidingWindow: null } });
        const windowed = referenceOf(hf).expected[0]!.at(-1)!;
        const unwindowed = referenceOf(full).expected[0]!.at(-1)!;
        assert.ok(maxAbsDiff(windowed, unwindowed) > 1e-3, 'the window must matter in this test');
      });
    }
  });
}
