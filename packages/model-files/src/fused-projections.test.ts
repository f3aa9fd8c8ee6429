// @module Fused q/k/v and gate/up (Phi-3): the parts' rows, the stored groups, and reads through the splitter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FusedSplitter, fusedPart, storedTensorGroups } from './fused-projections.ts';
import { tinyConfig } from './tiny-model.test-helper.ts';

const phi3 = tinyConfig({ architecture: 'Phi3ForCausalLM', numHeads: 2, numKvHeads: 1, headDim: 4, hiddenSize: 8, intermediateSize: 3, numLayers: 1 });

test('q, k, v rows follow each other in qkv_proj; gate precedes up in gate_up_proj; other families are not fused', () => {
  const p = 'model.layers.0.';
  assert.deepEqual(fusedPart(p + 'self_attn.q_proj.weight', phi3), { fused: p + 'self_attn.qkv_proj.weight', start: 0, rows: 8 });
  assert.deepEqual(fusedPart(p + 'self_attn.k_proj.weight', phi3), { fused: p + 'self_attn.qkv_proj.weight', start: 8, rows: 4 });
  assert.deepEqual(fusedPart(p + 'self_attn.v_proj.weight', phi3), { fused: p + 'self_attn.qkv_proj.weight', start: 12, rows: 4 });
  assert.deepEqual(fusedPart(p + 'mlp.up_proj.weight', phi3), { fused: p + 'mlp.gate_up_proj.weight', start: 3, rows: 3 });
  assert.equal(fusedPart(p + 'self_attn.o_proj.weight', phi3), null);
  assert.equal(fusedPart(p + 'self_attn.q_proj.weight', tinyConfig()), null);
  const groups = storedTensorGroups(
    [p + 'mlp.up_proj.weight', p + 'self_attn.v_proj.weight', p + 'self_attn.q_proj.weight', p + 'self_attn.k_proj.weight', p + 'mlp.gate_proj.weight'],
    phi3,
  );
  assert.deepEqual(
    groups.map((g) => [g.name, g.parts.map((n) => n.split('.').at(-2))]),
    [
      [p + 'mlp.gate_up_proj.weight', ['gate_proj', 'up_proj']],
      [p + 'self_attn.qkv_proj.weight', ['q_proj', 'k_proj', 'v_proj']],
    ],
  );
});

test("the splitter reads each part's rows, reports a wrong fused shape as stored, and owns nothing the file holds apart", () => {
  const qkv = { shape: [16, 8], data: Float32Array.from({ length: 128 }, (_, i) => i) };
  const splitter = new FusedSplitter(
    phi3,
    (name) => (name.endsWith('qkv_proj.weight') ? qkv.shape : undefined),
    () => qkv,
  );
  const k = splitter.read('model.layers.0.self_attn.k_proj.weight');
  assert.deepEqual(k.shape, [4, 8]);
  assert.equal(k.data[0], 8 * 8);
  assert.deepEqual(splitter.shape('model.layers.0.self_attn.v_proj.weight'), [4, 8]);
  assert.equal(splitter.owns('model.layers.0.mlp.gate_proj.weight'), false, 'no gate_up_proj stored: read as a plain tensor');
  const wrong = new FusedSplitter(
    phi3,
    () => [15, 8],
    () => qkv,
  );
  assert.deepEqual(wrong.shape('model.layers.0.self_attn.q_proj.weight'), [15, 8]);
});
