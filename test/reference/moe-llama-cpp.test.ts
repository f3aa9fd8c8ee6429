// @module Tessera on the tiny MoE GGUF files against llama.cpp's recorded greedy tokens and log-probabilities (moe-llama-cpp.json).
//
// The fixture is made by make-moe-llama-cpp-fixture.ts (by hand; tests never run llama.cpp). Each file is
// rebuilt here from the same seed and its sha256 checked, so the comparison is on the very bytes llama.cpp read.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadModel } from '@tessera/model-files';
import type { QuantAccuracy } from '../../services/shard/src/graph/linear.ts';
import { type MoeCheckpointName, writeMoeFixtureGguf } from './moe-checkpoint.ts';
import { MOE_FIXTURE_FORMS, type MoeLlamaCppFixture } from './moe-llama-cpp-fixture.ts';
import { startRunners } from './step-compare.ts';

const fixture = JSON.parse(fs.readFileSync(new URL('./moe-llama-cpp.json', import.meta.url), 'utf8')) as MoeLlamaCppFixture;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-moe-llama-cpp-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** Log-probabilities of one logits row. */
function logSoftmax(logits: Float32Array): Float64Array {
  const max = logits.reduce((m, v) => Math.max(m, v), -Infinity);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(logits, (v) => v - lse);
}

// F32: our fp64 reference agrees with Tessera to 1e-4; llama.cpp differs by up to ~1.1e-3 (its CPU flash
// attention rounds Q/K/V to f16). Q8_0: both multiply int8 activations by the int8 codes (llama.cpp quantizes
// activations to Q8_0 per 32, MatMulNBits accuracy 4 likewise with its own rounding), and with experts a small
// difference can move a token across a routing near-tie, which changes that layer's output wholesale: measured
// worst 0.023 (Mixtral) and 0.17 (Qwen3-MoE) over 16 steps × top-5, while every greedy token agrees.
const LOGPROB_TOLERANCE: Record<(typeof MOE_FIXTURE_FORMS)[number], number> = { F32: 2e-3, Q8_0: 0.25 };
const ACCURACY: Record<(typeof MOE_FIXTURE_FORMS)[number], QuantAccuracy> = { F32: 'float32', Q8_0: 'int8' };

for (const name of ['mixtral', 'qwen3moe'] as MoeCheckpointName[]) {
  for (const form of MOE_FIXTURE_FORMS) {
    const expected = fixture.checkpoints[`${name}-${form}`]!;
    describe(`${name} ${form} GGUF vs llama.cpp`, () => {
      test(`the same ${expected.greedy_ids.length} greedy tokens, and the top-5 log-probabilities of every step within ${LOGPROB_TOLERANCE[form]}`, async () => {
        const file = await writeMoeFixtureGguf(name, path.join(root, name), form);
        assert.equal(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), expected.sha256, 'the rebuilt file is the one llama.cpp read');
        const model = await loadModel(file);
        const { runners, close } = await startRunners(path.join(root, 'graphs'), model, 1, ACCURACY[form]);
        const runner = runners[0]!;
        try {
          runner.allocate(16);
          const blocks = Array.from({ length: 16 }, (_, i) => i);
          const prompt = fixture.prompt_ids;
          let r = await runner.step([{ ids: prompt, start: 0, blocks, allLogits: false }]);
          let worst = 0;
          const got: number[] = [];
          for (let s = 0; s < expected.greedy_ids.length; s++) {
            const lp = logSoftmax(r.logits);
            const chosen = lp.reduce((best, v, i) => (v > lp[best]! ? i : best), 0);
            got.push(chosen);
            for (const top of expected.top_logprobs[s]!) worst = Math.max(worst, Math.abs(lp[top.id]! - top.logprob));
            r = await runner.step([{ ids: [expected.greedy_ids[s]!], start: prompt.length + s, blocks, allLogits: false }]);
          }
          assert.deepEqual(got, expected.greedy_ids);
          assert.ok(worst <= LOGPROB_TOLERANCE[form], `worst top-5 log-probability difference ${worst}`);
          console.log(`${name} ${form}: worst top-5 |Δ logprob| ${worst.toExponential(2)}`);
        } finally {
          await close();
        }
      });
    });
  }
}
