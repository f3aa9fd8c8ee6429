// @module Where a token's time goes: Tessera's step histograms read from /metrics before and after a run, turned into a split of the time per output token.

/** The histogram sums and counts (by series name and `method` label) that the split needs. */
export type MetricsSnapshot = Map<string, number>;

const SERIES = [
  'tessera_batch_step_duration_seconds',
  'tessera_shard_step_duration_seconds',
  'tessera_shard_forward_duration_seconds',
  'tessera_shard_sample_duration_seconds',
  'tessera_batch_step_size',
  'tessera_shard_grammar_mask_duration_seconds',
] as const;

/** Reads `<series>_sum{method="…"}` and `_count` lines of the Prometheus text format (other lines are ignored). */
export function parseStepMetrics(text: string): MetricsSnapshot {
  const out: MetricsSnapshot = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\w+)_(sum|count)\{(?:[^}]*,)?method="(\w+)"[^}]*\}\s+(\S+)$/.exec(line.trim());
    if (m === null || !(SERIES as readonly string[]).includes(m[1]!)) continue;
    out.set(`${m[1]}_${m[2]}{${m[3]}}`, Number(m[4]));
  }
  return out;
}

/** GET /metrics; null when the server is not Tessera (no step histograms) or does not answer. */
export async function scrapeStepMetrics(baseUrl: string): Promise<MetricsSnapshot | null> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/v1\/?$/, '').replace(/\/$/, '')}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return null;
    const snapshot = parseStepMetrics(await res.text());
    return snapshot.has('tessera_batch_step_duration_seconds_count{decode}') ? snapshot : null;
  } catch {
    return null;
  }
}

/** Mean milliseconds of each part of the time per output token, over the decode steps of one run. */
export interface TimeSplit {
  decodeSteps: number;
  /** Mean requests per decode step. */
  batchSize: number;
  /** The client's mean time per output token (first token excluded). */
  tpotMs: number;
  /** Model forward on rank 0. */
  forwardMs: number;
  /** The rest of the shard's step: sampling, stops, batch bookkeeping, tensor-parallel choice broadcast. */
  shardOverheadMs: number;
  /** Router-observed step time minus the shard's: gRPC, (de)serialisation, runner-thread messages, waiting. */
  transportMs: number;
  /** Prefill steps' time spread over the decode steps (prompts admitted while others decode). */
  prefillMs: number;
  /** What is left of the TPOT: router routing, detokenization, stop strings, SSE, HTTP, the client. */
  routerMs: number;
  /** Grammar masks on rank 0 per decode step (0 without constrained requests). Overlaps the forward, so not a part of the sum. */
  grammarMaskMs: number;
}

/** The split between two snapshots, or null when no decode step ran in between. */
export function timeSplit(before: MetricsSnapshot, after: MetricsSnapshot, tpotMs: number): TimeSplit | null {
  const delta = (series: (typeof SERIES)[number], kind: 'sum' | 'count', method = 'decode') =>
    (after.get(`${series}_${kind}{${method}}`) ?? 0) - (before.get(`${series}_${kind}{${method}}`) ?? 0);
  const steps = delta('tessera_batch_step_duration_seconds', 'count');
  if (!(steps > 0)) return null;
  const perStepMs = (series: (typeof SERIES)[number], method = 'decode') => (delta(series, 'sum', method) * 1000) / steps;
  const stepMs = perStepMs('tessera_batch_step_duration_seconds');
  const forwardMs = perStepMs('tessera_shard_forward_duration_seconds');
  // Servers before tessera_shard_step_duration_seconds: forward + sampling is the shard's step.
  const shardMs =
    delta('tessera_shard_step_duration_seconds', 'sum') > 0
      ? perStepMs('tessera_shard_step_duration_seconds')
      : forwardMs + perStepMs('tessera_shard_sample_duration_seconds');
  const prefillMs = perStepMs('tessera_batch_step_duration_seconds', 'prefill');
  return {
    decodeSteps: steps,
    batchSize: delta('tessera_batch_step_size', 'sum') / steps,
    tpotMs,
    forwardMs,
    shardOverheadMs: shardMs - forwardMs,
    transportMs: stepMs - shardMs,
    prefillMs,
    routerMs: tpotMs - stepMs - prefillMs,
    grammarMaskMs: perStepMs('tessera_shard_grammar_mask_duration_seconds'),
  };
}

export function renderTimeSplit(s: TimeSplit): string {
  const row = (label: string, ms: number) => `${label.padEnd(40)}${ms.toFixed(3).padStart(10)} ms  ${((100 * ms) / s.tpotMs).toFixed(0).padStart(4)} %`;
  return [
    `---------Where a token's time goes (mean over ${s.decodeSteps} decode steps, ${s.batchSize.toFixed(1)} requests each)---------`,
    row('Time per output token (client)', s.tpotMs),
    row('  model forward (shard)', s.forwardMs),
    row('  sampling + bookkeeping (shard)', s.shardOverheadMs),
    row('  transport (gRPC, runner thread)', s.transportMs),
    row('  prefill steps in between', s.prefillMs),
    row('  router, SSE, HTTP, client', s.routerMs),
    // Computed while the forward runs: shown beside the split, not in it.
    ...(s.grammarMaskMs > 0 ? [row('grammar masks (beside the forward)', s.grammarMaskMs)] : []),
  ].join('\n');
}
