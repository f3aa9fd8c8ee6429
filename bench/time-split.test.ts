// @module Tests: reading Tessera's step histograms and splitting the time per output token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStepMetrics, renderTimeSplit, timeSplit } from './time-split.ts';

const exposition = (decodeSteps: number, scale: number) =>
  [
    '# HELP tessera_batch_step_duration_seconds Router-measured round trip',
    '# TYPE tessera_batch_step_duration_seconds histogram',
    'tessera_batch_step_duration_seconds_bucket{le="0.001",method="decode"} 0',
    `tessera_batch_step_duration_seconds_sum{model="m",method="decode"} ${0.004 * scale}`,
    `tessera_batch_step_duration_seconds_count{method="decode"} ${decodeSteps}`,
    `tessera_batch_step_duration_seconds_sum{method="prefill"} ${0.001 * scale}`,
    `tessera_batch_step_duration_seconds_count{method="prefill"} 1`,
    `tessera_shard_step_duration_seconds_sum{method="decode"} ${0.003 * scale}`,
    `tessera_shard_forward_duration_seconds_sum{method="decode"} ${0.002 * scale}`,
    `tessera_batch_step_size_sum{method="decode"} ${2 * decodeSteps}`,
    'tessera_requests_in_flight 3',
  ].join('\n');

test('the split over a run: forward, shard overhead, transport, prefill and router parts add up to the TPOT', () => {
  const before = parseStepMetrics(exposition(10, 10));
  const after = parseStepMetrics(exposition(110, 110));
  assert.equal(before.get('tessera_batch_step_duration_seconds_count{decode}'), 10);
  assert.equal(before.has('tessera_requests_in_flight'), false);
  const s = timeSplit(before, after, 6)!;
  assert.equal(s.decodeSteps, 100);
  assert.equal(s.batchSize, 2);
  // 100 steps: 0.4 s in steps, 0.3 s in the shard, 0.2 s forward, 0.1 s of prefill → per step in ms.
  assert.ok(Math.abs(s.forwardMs - 2) < 1e-9);
  assert.ok(Math.abs(s.shardOverheadMs - 1) < 1e-9);
  assert.ok(Math.abs(s.transportMs - 1) < 1e-9);
  assert.ok(Math.abs(s.prefillMs - 1) < 1e-9);
  assert.ok(Math.abs(s.routerMs - 1) < 1e-9);
  assert.match(renderTimeSplit(s), /model forward \(shard\)\s+2\.000 ms\s+33 %/);
  assert.equal(s.grammarMaskMs, 0);
  assert.doesNotMatch(renderTimeSplit(s), /grammar/, 'no constrained request: no grammar line');
});

test('grammar masks: their time per decode step, shown beside the split (they overlap the forward)', () => {
  const mask = (sum: number) => `tessera_shard_grammar_mask_duration_seconds_sum{model="m",method="decode"} ${sum}`;
  const before = parseStepMetrics(`${exposition(10, 10)}\n${mask(0.01)}`);
  const after = parseStepMetrics(`${exposition(110, 110)}\n${mask(0.06)}`);
  const s = timeSplit(before, after, 6)!;
  assert.ok(Math.abs(s.grammarMaskMs - 0.5) < 1e-9, '0.05 s over 100 decode steps');
  assert.ok(Math.abs(s.forwardMs + s.shardOverheadMs + s.transportMs + s.prefillMs + s.routerMs - 6) < 1e-9, 'the parts still add up to the TPOT');
  assert.match(renderTimeSplit(s), /grammar masks \(beside the forward\)\s+0\.500 ms/);
});

test('no decode step between the snapshots: no split', () => {
  const same = parseStepMetrics(exposition(10, 10));
  assert.equal(timeSplit(same, same, 5), null);
  assert.equal(timeSplit(new Map(), new Map(), 5), null);
});
