// @module Renders metrics as a fixed-width block shaped like vLLM's "Serving Benchmark Result".
import type { BenchmarkMetrics, Stats } from './metrics.ts';

const WIDTH = 50;

/** Python's `"{:c^n}".format(s)`: centred, any odd padding character goes on the right. */
export function center(text: string, fill: string, width = WIDTH): string {
  const pad = Math.max(0, width - text.length);
  const left = Math.floor(pad / 2);
  return fill.repeat(left) + text + fill.repeat(pad - left);
}

/** Python's `"{:<40} {:<10}"`: label padded to 40, one space, value padded to 10. */
function row(label: string, value: string): string {
  return `${label.padEnd(40)} ${value.padEnd(10)}`;
}

const fixed2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : String(v));

export interface TableContext {
  /** Shown as "Maximum request concurrency". */
  concurrency: number;
}

function statsRows(name: string, header: string, s: Stats): string[] {
  return [
    center(header, '-'),
    row(`Mean ${name} (ms):`, fixed2(s.mean)),
    row(`Median ${name} (ms):`, fixed2(s.median)),
    row(`P90 ${name} (ms):`, fixed2(s.p90)),
    row(`P99 ${name} (ms):`, fixed2(s.p99)),
  ];
}

/** The result block, one string with "\n" line ends (no trailing newline). */
export function renderTable(m: BenchmarkMetrics, ctx: TableContext): string {
  const lines = [
    center(' Serving Benchmark Result ', '='),
    row('Successful requests:', String(m.completed)),
    row('Failed requests:', String(m.failed)),
    row('Maximum request concurrency:', String(ctx.concurrency)),
    row('Benchmark duration (s):', fixed2(m.durationS)),
    row('Total input tokens:', String(m.totalInputTokens)),
    row('Total generated tokens:', String(m.totalOutputTokens)),
    row('Request throughput (req/s):', fixed2(m.requestThroughput)),
    row('Output token throughput (tok/s):', fixed2(m.outputThroughput)),
    row('Total Token throughput (tok/s):', fixed2(m.totalTokenThroughput)),
    ...statsRows('TTFT', 'Time to First Token', m.ttftMs),
    ...statsRows('TPOT', 'Time per Output Token (excl. 1st token)', m.tpotMs),
    ...statsRows('ITL', 'Inter-token Latency', m.itlMs),
    ...statsRows('E2EL', 'End-to-end Latency', m.e2elMs),
    '='.repeat(WIDTH),
  ];
  return lines.map((l) => l.trimEnd()).join('\n');
}
