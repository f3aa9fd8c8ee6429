// @module Bench: one-way latency of a decode step's reply from the runner thread to the shard's main thread — postMessage against SharedArrayBuffer + Atomics (issue 16, "consider").
// Run: node --import tsx bench/thread-messaging.ts [--steps 3000] [--compute-us 200]
import { Worker } from 'node:worker_threads';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const steps = arg('steps', 3000);
const computeNs = BigInt(Math.round(arg('compute-us', 200) * 1000));

// Shared layout: [0] step counter (runner → main), [1] acknowledged step (main → runner), a timestamp, the step's ids.
const view = (shared: SharedArrayBuffer) => ({
  control: new Int32Array(shared, 0, 4),
  stamp: new BigInt64Array(shared, 16, 1),
  ids: new Int32Array(shared, 32, 32),
});
type WaitAsync = (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

// The runner side, plain JavaScript (a worker does not inherit tsx): compute, then hand over the step.
const RUNNER = `
const { parentPort, workerData } = require('node:worker_threads');
const { mode, shared, steps, computeNs } = workerData;
const control = new Int32Array(shared, 0, 4), stamp = new BigInt64Array(shared, 16, 1), ids = new Int32Array(shared, 32, 32);
const compute = () => { const t = process.hrtime.bigint(); while (process.hrtime.bigint() - t < computeNs); };
// A step reply as the runner thread posts it (shard-engine's DecodeResponse for one request).
const reply = (step) => ({
  generations: [{ requestId: 1, tokens: { ids: [step], logprobs: [-0.5] }, topTokens: [], finishReason: 'FINISH_REASON_UNSPECIFIED', generatedTokens: step, seed: 0 }],
  batch: { id: 1, requestIds: [1], size: 1, maxTokens: 100 },
  timings: { forwardNs: 1, sampleNs: 1, totalNs: 1, computedTokens: 1, draftTokens: 0, acceptedDraftTokens: 0, grammarMaskNs: 0 },
});
if (mode === 'postMessage') {
  let step = 0;
  const next = () => {
    if (step++ === steps) return parentPort.postMessage('done');
    compute();
    parentPort.postMessage({ sent: process.hrtime.bigint(), reply: reply(step) });
  };
  parentPort.on('message', next);
  next();
} else {
  for (let step = 1; step <= steps; step++) {
    compute();
    ids[0] = step;
    stamp[0] = process.hrtime.bigint();
    Atomics.store(control, 0, step);
    Atomics.notify(control, 0);
    Atomics.wait(control, 1, step - 1);
  }
  Atomics.store(control, 0, -1);
  Atomics.notify(control, 0);
}`;

for (const mode of ['postMessage', 'atomics', 'postMessage', 'atomics'] as const) {
  const shared = new SharedArrayBuffer(256);
  const { control, stamp, ids } = view(shared);
  const latencies: number[] = [];
  const worker = new Worker(RUNNER, { eval: true, workerData: { mode, shared, steps, computeNs } });
  await new Promise<void>((resolve) => {
    if (mode === 'postMessage') {
      worker.on('message', (m: { sent: bigint } | 'done') => {
        if (m === 'done') return resolve();
        latencies.push(Number(process.hrtime.bigint() - m.sent));
        worker.postMessage('ack');
      });
      return;
    }
    void (async () => {
      for (let seen = 0; ; ) {
        const wait = waitAsync(control, 0, seen);
        if (wait.async) await wait.value;
        seen = Atomics.load(control, 0);
        if (seen === -1) return resolve();
        latencies.push(Number(process.hrtime.bigint() - stamp[0]!));
        void ids[0];
        Atomics.store(control, 1, seen);
        Atomics.notify(control, 1);
      }
    })();
  });
  await worker.terminate();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies[Math.floor(latencies.length * q)]! / 1000).toFixed(1);
  console.log(`${mode.padEnd(12)} one-way median ${at(0.5)} µs, p90 ${at(0.9)} µs (${steps} steps, ${Number(computeNs) / 1000} µs of compute between them)`);
}
