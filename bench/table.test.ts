// @module Tests that the result table matches vLLM's fixed-width "Serving Benchmark Result" layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { center, renderTable } from './table.ts';
import type { BenchmarkMetrics, Stats } from './metrics.ts';

const stats = (base: number): Stats => ({ count: 3, mean: base, std: 1, median: base + 0.5, p90: base + 1.25, p99: base + 2.004 });

test('centering puts the odd padding character on the right, like Python format "^"', () => {
  // Lines copied from a real `vllm bench serve` run.
  assert.equal(center(' Serving Benchmark Result ', '='), '============ Serving Benchmark Result ============');
  assert.equal(center('Time per Output Token (excl. 1st token)', '-'), '-----Time per Output Token (excl. 1st token)------');
  assert.equal(center('Time to First Token', '-'), '---------------Time to First Token----------------');
});

test('renders every row with 40-column labels and 2-decimal values', () => {
  const m: BenchmarkMetrics = {
    completed: 256,
    failed: 0,
    durationS: 12.3456,
    totalInputTokens: 4096,
    totalOutputTokens: 32768,
    requestThroughput: 20.736,
    outputThroughput: 2654.2,
    totalTokenThroughput: 2985.96,
    ttftMs: stats(10),
    tpotMs: stats(2),
    itlMs: stats(1.9),
    e2elMs: stats(300),
  };
  const lines = renderTable(m, { concurrency: 32 }).split('\n');
  assert.equal(lines[0], '============ Serving Benchmark Result ============');
  assert.equal(lines[1], 'Successful requests:                     256');
  assert.equal(lines[3], 'Maximum request concurrency:             32');
  assert.equal(lines[4], 'Benchmark duration (s):                  12.35');
  assert.equal(lines[6], 'Total generated tokens:                  32768');
  assert.equal(lines[7], 'Request throughput (req/s):              20.74');
  assert.ok(lines.includes('Mean TTFT (ms):                          10.00'));
  assert.ok(lines.includes('P99 TTFT (ms):                           12.00'));
  assert.ok(lines.includes('Median TPOT (ms):                        2.50'));
  assert.ok(lines.includes('P90 ITL (ms):                            3.15'));
  assert.ok(lines.includes('----------------End-to-end Latency----------------'));
  assert.equal(lines.at(-1), '='.repeat(50));
  assert.equal(lines.length, 10 + 4 * 5 + 1);
});
