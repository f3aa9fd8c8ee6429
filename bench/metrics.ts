// @module Serving metrics from per-request records, defined as vLLM's `vllm bench serve` defines them.
import type { RequestRecord } from './request.ts';

/** Summary of one latency distribution, in milliseconds. */
export interface Stats {
  /** How many samples the summary is over (0 ⇒ every field is 0, as vLLM reports it). */
  count: number;
  mean: number;
  /** Population standard deviation (numpy's default ddof=0). */
  std: number;
  median: number;
  p90: number;
  p99: number;
}

export interface BenchmarkMetrics {
  completed: number;
  failed: number;
  durationS: number;
  /** Sum of `usage.prompt_tokens` over completed requests (0 where the server sends no usage). */
  totalInputTokens: number;
  totalOutputTokens: number;
  requestThroughput: number;
  outputThroughput: number;
  totalTokenThroughput: number;
  ttftMs: Stats;
  tpotMs: Stats;
  itlMs: Stats;
  e2elMs: Stats;
}

/**
 * numpy.percentile's default ("linear") method: the value at fractional rank p/100·(n−1) of the
 * sorted samples, interpolated between its two neighbours. Empty input gives 0 (vLLM's `x or 0`).
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Population standard deviation, like numpy.std with ddof=0. */
export function std(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) ** 2;
  return Math.sqrt(squares / values.length);
}

export function summarize(values: readonly number[]): Stats {
  return {
    count: values.length,
    mean: mean(values),
    std: std(values),
    median: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
  };
}

/** Time to first token: first content chunk − request start. */
export function ttftMs(r: RequestRecord): number {
  const first = r.chunkMs[0];
  if (first === undefined) throw new Error(`request ${r.index} has no content chunk`);
  return first - r.startMs;
}

/** End-to-end latency: request start → response complete. */
export function e2elMs(r: RequestRecord): number {
  return r.endMs - r.startMs;
}

/** Gaps between consecutive content chunks of one request (n chunks → n−1 gaps). */
export function itlsMs(r: RequestRecord): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < r.chunkMs.length; i++) gaps.push(r.chunkMs[i]! - r.chunkMs[i - 1]!);
  return gaps;
}

/** Time per output token after the first: (E2E − TTFT) / (tokens − 1); undefined for ≤ 1 token. */
export function tpotMs(r: RequestRecord): number | undefined {
  if (r.outputTokens <= 1) return undefined;
  return (e2elMs(r) - ttftMs(r)) / (r.outputTokens - 1);
}

/**
 * Aggregates the records of one timed run. Only successful requests enter token counts and latency
 * distributions; throughputs divide by the wall-clock `durationMs` of the whole run.
 */
export function computeMetrics(records: readonly RequestRecord[], durationMs: number): BenchmarkMetrics {
  if (!(durationMs > 0)) throw new RangeError(`duration must be > 0 ms, got ${durationMs}`);
  const ok = records.filter((r) => r.ok);
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const itls: number[] = [];
  const e2els: number[] = [];
  let totalInputTokens = 0;
  let totalOutputTokens = 0;
  for (const r of ok) {
    totalInputTokens += r.promptTokens ?? 0;
    totalOutputTokens += r.outputTokens;
    ttfts.push(ttftMs(r));
    e2els.push(e2elMs(r));
    for (const gap of itlsMs(r)) itls.push(gap);
    const tpot = tpotMs(r);
    if (tpot !== undefined) tpots.push(tpot);
  }
  const durationS = durationMs / 1000;
  return {
    completed: ok.length,
    failed: records.length - ok.length,
    durationS,
    totalInputTokens,
    totalOutputTokens,
    requestThroughput: ok.length / durationS,
    outputThroughput: totalOutputTokens / durationS,
    totalTokenThroughput: (totalInputTokens + totalOutputTokens) / durationS,
    ttftMs: summarize(ttfts),
    tpotMs: summarize(tpots),
    itlMs: summarize(itls),
    e2elMs: summarize(e2els),
  };
}

/** How the completed requests ended, e.g. "stop 20, length 4" (most common first; no reason sent → "none"). */
export function describeFinishReasons(records: readonly RequestRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of records) if (r.ok) counts.set(r.finishReason ?? 'none', (counts.get(r.finishReason ?? 'none') ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}
