// @module Graph cache: builds once with progress logs and external weights, then reuses; keys differ by model.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import * as ort from 'onnxruntime-node';
import { randomLlamaModel } from '../../../../test/reference/random-model.ts';
import { ensureStepGraph } from './graph-cache.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-gc-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('first call builds (logging progress per layer), second reuses, another model gets its own entry', async () => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const model = randomLlamaModel({ numLayers: 3 });
  const first = ensureStepGraph(model, { cacheDir: dir, rank: 0, worldSize: 1, logger });
  assert.equal(first.reused, false);
  assert.ok(lines.some((l) => l.includes('building graph: layer 3/3')), lines.join(''));
  const onnxBytes = fs.statSync(first.onnxPath).size;
  const dataBytes = fs.statSync(`${first.onnxPath}.data`).size;
  assert.ok(onnxBytes < 64 * 1024, `graph proto stays small (${onnxBytes} B): weights are external`);
  assert.ok(dataBytes > 100_000);

  const second = ensureStepGraph(model, { cacheDir: dir, rank: 0, worldSize: 1, logger });
  assert.deepEqual(second, { onnxPath: first.onnxPath, reused: true });
  const other = ensureStepGraph(randomLlamaModel({ numLayers: 3 }, 99), { cacheDir: dir, rank: 0, worldSize: 1 });
  assert.notEqual(other.onnxPath, first.onnxPath);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('.tmp-')), []);

  const session = await ort.InferenceSession.create(first.onnxPath);
  assert.ok(session.inputNames.includes('k_cache_2'));
  assert.ok(session.outputNames.includes('logits'));
  await session.release();
});

test('tensor parallel ranks are refused with a clear message', () => {
  assert.throws(() => ensureStepGraph(randomLlamaModel(), { cacheDir: dir, rank: 1, worldSize: 2 }), /tensor parallelism is not implemented/);
});
