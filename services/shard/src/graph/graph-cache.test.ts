// @module Graph cache: builds once with progress logs and external weights, then reuses; keys differ by model.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import * as ort from 'onnxruntime-node';
import { randomLlamaModel } from '@tessera/testing';
import { ensureStepGraph } from './graph-cache.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-gc-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('first call builds (logging progress per layer), second reuses, another model gets its own entry', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const model = randomLlamaModel({ numLayers: 3 });
  const first = ensureStepGraph(model, { cacheDir: dir, rank: 0, worldSize: 1, logger });
  assert.equal(first.reused, false);
  assert.ok(
    lines.some((l) => l.includes('building graph: layer 3/3')),
    lines.join(''),
  );
  const onnxBytes = fs.statSync(first.onnxPath).size;
  const dataBytes = fs.statSync(`${first.onnxPath}.data`).size;
  assert.ok(onnxBytes < 64 * 1024, `graph proto stays small (${onnxBytes} B): weights are external`);
  assert.ok(dataBytes > 100_000);

  const second = ensureStepGraph(model, { cacheDir: dir, rank: 0, worldSize: 1, logger });
  assert.deepEqual(second, { onnxPath: first.onnxPath, segmentPaths: [first.onnxPath], reused: true });
  const other = ensureStepGraph(randomLlamaModel({ numLayers: 3 }, 99), { cacheDir: dir, rank: 0, worldSize: 1 });
  assert.notEqual(other.onnxPath, first.onnxPath);
  assert.deepEqual(
    fs.readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
  );

  const session = await ort.InferenceSession.create(first.onnxPath);
  assert.ok(session.inputNames.includes('k_cache_2'));
  assert.ok(session.outputNames.includes('logits'));
  await session.release();
});

test('a tensor-parallel rank gets its own entry of 2L + 2 segments; a split that cannot work is refused', async () => {
  const model = randomLlamaModel({ numLayers: 3, numHeads: 4, numKvHeads: 2 });
  const rank1 = ensureStepGraph(model, { cacheDir: dir, rank: 1, worldSize: 2 });
  assert.equal(rank1.segmentPaths.length, 2 * 3 + 2);
  assert.notEqual(path.dirname(rank1.onnxPath), path.dirname(ensureStepGraph(model, { cacheDir: dir, rank: 0, worldSize: 2 }).onnxPath));
  assert.deepEqual(ensureStepGraph(model, { cacheDir: dir, rank: 1, worldSize: 2 }), { ...rank1, reused: true });
  const attention = await ort.InferenceSession.create(rank1.segmentPaths[1]!);
  assert.deepEqual([...attention.outputNames].sort(), ['new_k_0', 'new_v_0', 'partial']);
  await attention.release();
  assert.throws(() => ensureStepGraph(model, { cacheDir: dir, rank: 0, worldSize: 3 }), /num_attention_heads 4 is not divisible by the 3 shards/);
});
