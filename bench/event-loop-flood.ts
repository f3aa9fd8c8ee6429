// @module `npm run bench:event-loop-flood`: floods a router with huge prompts while probing /live; reports /live latency and the router's event-loop delay.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { percentile } from './metrics.ts';

const USAGE = `npm run bench:event-loop-flood -- [--url http://127.0.0.1:8080] [--flooders 4] [--duration 20]
    [--prompt-bytes 1048576] [--truncate N] [--probe-ms 50] [--json FILE]

--flooders clients each send one /generate with a --prompt-bytes prompt after another (max_new_tokens 1);
--truncate N adds parameters.truncate, so the router must tokenize the whole prompt (on its worker threads)
instead of refusing it from its length. Meanwhile GET /live is timed every --probe-ms.`;

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    flooders: { type: 'string', default: '4' },
    duration: { type: 'string', default: '20' },
    'prompt-bytes': { type: 'string', default: String(2 ** 20) },
    truncate: { type: 'string' },
    'probe-ms': { type: 'string', default: '50' },
    json: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const url = values.url.replace(/\/$/, '');
const flooders = Number(values.flooders);
const durationMs = Number(values.duration) * 1000;
const promptBytes = Number(values['prompt-bytes']);
const truncate = values.truncate === undefined ? undefined : Number(values.truncate);
const probeMs = Number(values['probe-ms']);

const unit = 'Once upon a time there was a little girl. ';
const prompt = unit.repeat(Math.ceil(promptBytes / unit.length)).slice(0, promptBytes);
const body = JSON.stringify({ inputs: prompt, parameters: { max_new_tokens: 1, ...(truncate !== undefined ? { truncate } : {}) } });

const statuses = new Map<number, number>();
const floodMs: number[] = [];
const liveMs: number[] = [];
let liveFailures = 0;
const deadline = performance.now() + durationMs;

async function flood(): Promise<void> {
  while (performance.now() < deadline) {
    const started = performance.now();
    const status = await fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
      async (res) => (await res.arrayBuffer(), res.status),
      () => 0, // a connection error
    );
    floodMs.push(performance.now() - started);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
}

async function probe(): Promise<void> {
  while (performance.now() < deadline) {
    const started = performance.now();
    // A connection error (e.g. a keep-alive socket closed while the loop was blocked) counts, with its time.
    const ok = await fetch(`${url}/live`).then(
      async (res) => (await res.arrayBuffer(), res.ok),
      () => false,
    );
    liveMs.push(performance.now() - started);
    if (!ok) liveFailures++;
    await new Promise((r) => setTimeout(r, probeMs));
  }
}

/** The router's own figures: tessera_event_loop_delay_seconds{quantile=…} (last 30–60 s). */
async function eventLoopDelay(): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^tessera_event_loop_delay_seconds\{[^}]*quantile="([^"]+)"[^}]*\} (\S+)$/gm)) out[m[1]!] = Number(m[2]) * 1000;
  return out;
}

console.log(
  `Flooding ${url}/generate with ${flooders} × ${promptBytes}-byte prompts${truncate !== undefined ? ` (truncate ${truncate})` : ''} for ${durationMs / 1000} s; probing /live every ${probeMs} ms`,
);
await Promise.all([...Array.from({ length: flooders }, flood), probe()]);
const loop = await eventLoopDelay();
const ms = (x: number) => `${x.toFixed(1)} ms`;
const report = {
  date: new Date().toISOString(),
  config: { url, flooders, durationS: durationMs / 1000, promptBytes, truncate: truncate ?? null, probeMs },
  floodRequests: floodMs.length,
  statuses: Object.fromEntries(statuses),
  floodLatencyMs: { p50: percentile(floodMs, 50), p99: percentile(floodMs, 99), max: Math.max(...floodMs) },
  liveLatencyMs: { count: liveMs.length, failures: liveFailures, p50: percentile(liveMs, 50), p99: percentile(liveMs, 99), max: Math.max(...liveMs) },
  eventLoopDelayMs: loop,
};
console.log(
  `flood requests  ${report.floodRequests} (status ${JSON.stringify(report.statuses)}), latency p50 ${ms(report.floodLatencyMs.p50)} p99 ${ms(report.floodLatencyMs.p99)}`,
);
console.log(
  `/live           ${liveMs.length} probes (${liveFailures} failed), p50 ${ms(report.liveLatencyMs.p50)} p99 ${ms(report.liveLatencyMs.p99)} max ${ms(report.liveLatencyMs.max)}`,
);
console.log(
  `event loop      p50 ${ms(loop['0.5'] ?? NaN)} p99 ${ms(loop['0.99'] ?? NaN)} max ${ms(loop.max ?? NaN)} (router's tessera_event_loop_delay_seconds)`,
);
if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2));
