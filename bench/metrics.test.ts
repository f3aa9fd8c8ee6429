// @module Tests of the serving metrics against hand-computed values (numpy linear-interpolation percentiles).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics, describeFinishReasons, itlsMs, mean, percentile, std, summarize, tpotMs, ttftMs } from './metrics.ts';
import type { RequestRecord } from './request.ts';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);

function rec(index: number, startMs: number, chunkMs: number[], endMs: number, outputTokens: number, promptTokens: number | null, ok = true): RequestRecord {
  return {
    index,
    promptIndex: index,
    ok,
    startMs,
    chunkMs,
    endMs,
    outputTokens,
    usageCompletionTokens: outputTokens,
    promptTokens,
    finishReason: 'length',
    text: 'x'.repeat(chunkMs.length),
    ...(ok ? {} : { error: 'boom' }),
  };
}

test('percentile interpolates linearly between order statistics like numpy.percentile', () => {
  // sorted: [15, 20, 35, 40, 50]; rank = p/100 * 4
  const values = [40, 15, 50, 20, 35];
  close(percentile(values, 0), 15, 'p0');
  close(percentile(values, 25), 20, 'p25 (rank 1)');
  close(percentile(values, 50), 35, 'p50 (rank 2)');
  close(percentile(values, 90), 46, 'p90 (rank 3.6: 40 + 0.6*10)');
  close(percentile(values, 99), 49.6, 'p99 (rank 3.96: 40 + 0.96*10)');
  close(percentile(values, 100), 50, 'p100');
  // even length: [1, 2, 3, 4], rank = p/100 * 3
  close(percentile([4, 1, 3, 2], 50), 2.5, 'median of 4');
  close(percentile([1, 2, 3, 4], 90), 3.7, 'p90 (rank 2.7)');
  close(percentile([1, 2, 3, 4], 99), 3.97, 'p99 (rank 2.97)');
  close(percentile([7], 99), 7, 'single sample');
  assert.deepEqual(values, [40, 15, 50, 20, 35], 'input is not sorted in place');
  assert.throws(() => percentile(values, 101), RangeError);
});

test('mean and population std (ddof=0); empty distributions summarise to zeros like vLLM', () => {
  const values = [40, 15, 50, 20, 35];
  close(mean(values), 32, 'mean');
  // deviations -17 -12 3 8 18 → squares 289 144 9 64 324 → 830 / 5 = 166
  close(std(values), Math.sqrt(166), 'std');
  assert.deepEqual(summarize([]), { count: 0, mean: 0, std: 0, median: 0, p90: 0, p99: 0 });
  const s = summarize(values);
  assert.equal(s.count, 5);
  close(s.median, 35, 'median');
  close(s.p90, 46, 'p90');
});

test('per-request TTFT, ITL gaps and TPOT', () => {
  const r = rec(0, 10, [110, 120, 140], 150, 3, 5);
  close(ttftMs(r), 100, 'ttft');
  assert.deepEqual(itlsMs(r), [10, 20]);
  close(tpotMs(r)!, (140 - 100) / 2, 'tpot = (e2e - ttft) / (tokens - 1)');
  assert.equal(tpotMs(rec(1, 0, [30], 40, 1, 5)), undefined, 'one-token request has no TPOT');
  // usage says 5 tokens in 3 chunks (several tokens per chunk): TPOT divides by tokens, not chunks
  close(tpotMs(rec(2, 0, [40, 60, 80], 120, 5, null))!, (120 - 40) / 4, 'tpot uses output tokens');
});

test('computeMetrics aggregates successful requests only, pools ITLs and excludes 1-token TPOTs', () => {
  const records = [
    rec(0, 0, [100, 110, 130], 130, 3, 5), // ttft 100, e2e 130, tpot 15, itl [10, 20]
    rec(1, 5, [55], 60, 1, null), // ttft 50, e2e 55, no tpot, no itl
    rec(2, 10, [30, 40, 45, 70], 75, 4, 7), // ttft 20, e2e 65, tpot 15, itl [10, 5, 25]
    rec(3, 0, [1000, 1001], 1002, 2, 9, false), // failed: must not count anywhere
    rec(4, 0, [40, 60, 80], 120, 5, 4), // ttft 40, e2e 120, tpot 20, itl [20, 20]
  ];
  const m = computeMetrics(records, 2000);
  assert.equal(m.completed, 4);
  assert.equal(m.failed, 1);
  close(m.durationS, 2, 'duration');
  assert.equal(m.totalInputTokens, 16);
  assert.equal(m.totalOutputTokens, 13);
  close(m.requestThroughput, 2, 'req/s');
  close(m.outputThroughput, 6.5, 'tok/s');
  close(m.totalTokenThroughput, 14.5, 'total tok/s');

  // TTFT [100, 50, 20, 40] → sorted [20, 40, 50, 100]
  assert.equal(m.ttftMs.count, 4);
  close(m.ttftMs.mean, 52.5, 'ttft mean');
  close(m.ttftMs.median, 45, 'ttft median');
  close(m.ttftMs.p90, 85, 'ttft p90 (rank 2.7: 50 + 0.7*50)');
  close(m.ttftMs.p99, 98.5, 'ttft p99 (rank 2.97)');

  // TPOT [15, 15, 20]: the 1-token request is left out
  assert.equal(m.tpotMs.count, 3);
  close(m.tpotMs.mean, 50 / 3, 'tpot mean');
  close(m.tpotMs.median, 15, 'tpot median');

  // ITL pooled over requests: [10, 20, 10, 5, 25, 20, 20] → sorted [5, 10, 10, 20, 20, 20, 25]
  assert.equal(m.itlMs.count, 7);
  close(m.itlMs.mean, 110 / 7, 'itl mean');
  close(m.itlMs.median, 20, 'itl median (rank 3)');
  close(m.itlMs.p90, 22, 'itl p90 (rank 5.4: 20 + 0.4*5)');

  // E2E [130, 55, 65, 120] → sorted [55, 65, 120, 130]
  close(m.e2elMs.mean, 92.5, 'e2e mean');
  close(m.e2elMs.median, 92.5, 'e2e median');
  close(m.e2elMs.p99, 120 + 0.97 * 10, 'e2e p99');
});

test('computeMetrics with every request failed reports zero throughput, not NaN', () => {
  const m = computeMetrics([rec(0, 0, [], 5, 0, null, false)], 100);
  assert.equal(m.completed, 0);
  assert.equal(m.failed, 1);
  assert.equal(m.outputThroughput, 0);
  assert.equal(m.ttftMs.mean, 0);
  assert.throws(() => computeMetrics([], 0), RangeError);
});

test('finish reasons of the completed requests, most common first', () => {
  const r = (finishReason: string | null, ok = true) => ({ ...rec(0, 0, [1], 2, 1, 1, ok), finishReason });
  assert.equal(describeFinishReasons([r('length'), r('stop'), r('stop'), r(null), r('stop', false)]), 'stop 2, length 1, none 1');
  assert.equal(describeFinishReasons([]), '');
});
