// @module `npm run bench:soak`: N mixed requests at concurrency C with some aborted mid-stream, in rounds; checks each ended exactly once, KV free, nothing in flight, no memory growth.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { soakRequest, type SoakKind, type SoakOutcome } from './soak-request.ts';

const USAGE = `npm run bench:soak -- [--url http://127.0.0.1:8080] [-n 10000] [-c 64] [--abort-fraction 0.1]
    [--max-tokens 32] [--rounds 2] [--timeout 120] [--json FILE]

Each round sends -n requests (half TGI /generate_stream, a quarter /generate, a quarter streamed
/v1/chat/completions) from -c clients; --abort-fraction of the streams disconnect after 1-5 events.
After each round it checks, from the client and the router's /metrics: every request ended exactly
once (one terminal event or response; tessera_request_finished_total grew by the admitted count),
none hung, in-flight 0, KV blocks used 0, queue 0. It then compares the router's RSS and heap floor
(minimum over the second half of each round and the 2 s after it, sampled every second) with the
first round's: growth beyond 10 % + 16 MiB fails the run (a leak). Exit 0 when all pass.`;

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    n: { type: 'string', short: 'n', default: '10000' },
    c: { type: 'string', short: 'c', default: '64' },
    'abort-fraction': { type: 'string', default: '0.1' },
    'max-tokens': { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '120' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const url = values.url.replace(/\/$/, '');
const total = Number(values.n);
const concurrency = Number(values.c);
const abortFraction = Number(values['abort-fraction']);
const maxTokens = Number(values['max-tokens']);
const rounds = Number(values.rounds);
const timeoutMs = Number(values.timeout) * 1000;

/** Seeded so two runs send the same mix. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** One sample of a metric (summed over label sets that match `labels`). */
async function scrape(): Promise<(name: string, labels?: string) => number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return (name, labels = '') => {
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (labels !== '' && !line.includes(labels)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface MemorySample {
  at: number;
  rss: number;
  heap: number;
}

/**
 * Samples the router's memory every second. Heap used right after a round depends on when V8 last
 * collected (one run read 44, 81, then 48 MiB after three equal rounds); its floor while busy, when
 * collections are frequent, tracks what stays alive.
 */
function sampleMemory(): { samples: MemorySample[]; stop(): void } {
  const samples: MemorySample[] = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    scrape()
      .then((s) => samples.push({ at: performance.now(), rss: s('process_resident_memory_bytes'), heap: s('nodejs_heap_size_used_bytes') }))
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 1000);
  return { samples, stop: () => clearInterval(timer) };
}

/** Minimum RSS and heap (MiB) over the samples taken since `from`. */
function floor(samples: readonly MemorySample[], from: number): { rssMiB: number; heapMiB: number } {
  const recent = samples.filter((x) => x.at >= from);
  return { rssMiB: Math.min(...recent.map((x) => x.rss)) / 2 ** 20, heapMiB: Math.min(...recent.map((x) => x.heap)) / 2 ** 20 };
}

/** Waits until nothing is in flight (a few seconds at most), then reads the counters that must be 0. */
async function settle(): Promise<{ inFlight: number; queue: number; kvUsed: number }> {
  let m = await scrape();
  for (let i = 0; i < 50 && (m('tessera_requests_in_flight') > 0 || m('tessera_kv_blocks', 'state="used"') > 0); i++) {
    await sleep(200);
    m = await scrape();
  }
  await sleep(2000);
  return { inFlight: m('tessera_requests_in_flight'), queue: m('tessera_queue_size'), kvUsed: m('tessera_kv_blocks', 'state="used"') };
}

async function round(index: number): Promise<Record<string, unknown>> {
  const before = await scrape();
  const finishedBefore = before('tessera_request_finished_total');
  const random = rng(1 + index);
  const kinds: SoakKind[] = ['tgi-stream', 'tgi-stream', 'tgi', 'chat-stream'];
  const plan = Array.from({ length: total }, (_, i) => {
    const kind = kinds[i % kinds.length]!;
    return { i, kind, abortAfter: kind !== 'tgi' && random() < abortFraction ? 1 + Math.floor(random() * 5) : 0 };
  });
  const outcomes: SoakOutcome[] = [];
  let next = 0;
  const started = performance.now();
  const memory = sampleMemory();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < plan.length) {
        const p = plan[next++]!;
        outcomes.push(await soakRequest(url, p.kind, p.i, { maxTokens, abortAfter: p.abortAfter, timeoutMs }));
        if (outcomes.length % Math.ceil(total / 10) === 0) process.stderr.write(`round ${index + 1}: ${outcomes.length}/${total}\n`);
      }
    }),
  );
  const ended = performance.now();
  const seconds = (ended - started) / 1000;
  const after = await settle();
  memory.stop();
  // The second half of the round and the settling after it.
  const mem = floor(memory.samples, started + (ended - started) / 2);
  const finished = (await scrape())('tessera_request_finished_total') - finishedBefore;
  const refused = outcomes.filter((o) => o.status === 429 || o.status === 503).length;
  const wrongEnds = outcomes.filter((o) => !o.aborted && !o.hung && o.terminals !== 1);
  return {
    round: index + 1,
    requests: outcomes.length,
    seconds: Math.round(seconds * 10) / 10,
    aborted: outcomes.filter((o) => o.aborted).length,
    errors: outcomes.filter((o) => o.error !== null && !o.aborted).length,
    refused,
    hung: outcomes.filter((o) => o.hung).length,
    notExactlyOnce: wrongEnds.length,
    finishedCounted: finished,
    admitted: outcomes.length - refused,
    ...after,
    rssMiB: Math.round(mem.rssMiB * 10) / 10,
    heapMiB: Math.round(mem.heapMiB * 10) / 10,
    sampleErrors: [...new Set(outcomes.filter((o) => o.error !== null && !o.aborted).map((o) => o.error))].slice(0, 5),
  };
}

console.log(
  `Soak: ${rounds} × ${total} requests at concurrency ${concurrency}, ${abortFraction * 100} % of streams aborted, max ${maxTokens} tokens, against ${url}`,
);
const baselineSampler = sampleMemory();
await sleep(3500);
baselineSampler.stop();
const baseline = floor(baselineSampler.samples, 0);
console.log(`before: RSS ${baseline.rssMiB.toFixed(1)} MiB, heap ${baseline.heapMiB.toFixed(1)} MiB`);
const results: Record<string, unknown>[] = [];
const failures: string[] = [];
for (let r = 0; r < rounds; r++) {
  const res = await round(r);
  results.push(res);
  console.log(JSON.stringify(res));
  if (res.hung !== 0) failures.push(`round ${r + 1}: ${res.hung} hung`);
  if (res.notExactlyOnce !== 0) failures.push(`round ${r + 1}: ${res.notExactlyOnce} requests without exactly one terminal event`);
  if (res.finishedCounted !== res.admitted)
    failures.push(`round ${r + 1}: the router counted ${res.finishedCounted} finished requests, ${res.admitted} were admitted`);
  if (res.inFlight !== 0 || res.kvUsed !== 0 || res.queue !== 0)
    failures.push(`round ${r + 1}: in flight ${res.inFlight}, KV blocks used ${res.kvUsed}, queue ${res.queue} after the round`);
}
const first = results[0] as { rssMiB: number; heapMiB: number };
for (const res of results.slice(1) as { round: number; rssMiB: number; heapMiB: number }[]) {
  for (const key of ['rssMiB', 'heapMiB'] as const) {
    if (res[key] > first[key] * 1.1 + 16)
      failures.push(`round ${res.round}: ${key} ${res[key].toFixed(1)} > round 1's ${first[key].toFixed(1)} + 10 % + 16 MiB (leak?)`);
  }
}
if (values.json !== undefined)
  await writeFile(
    values.json,
    JSON.stringify(
      { date: new Date().toISOString(), config: { url, total, concurrency, abortFraction, maxTokens, rounds }, baseline, results, failures },
      null,
      2,
    ),
  );
console.log(
  failures.length === 0 ? 'PASS: every request ended exactly once, KV free, nothing in flight, no growth between rounds' : `FAIL:\n  ${failures.join('\n  ')}`,
);
process.exitCode = failures.length === 0 ? 0 : 1;
