// @module Shared-memory links between two ranks on different threads: sums, big frames via the socket, failures, no leftovers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ProcessGroup } from './group.ts';
import { sharedMemoryDir, SHM_MAX_FRAME_BYTES } from './shm-link.ts';
import { freePort } from '@tessera/testing';

const GROUP_URL = new URL('./group.ts', import.meta.url).href;
const TSX_API_URL = import.meta.resolve('tsx/esm/api');

/**
 * Rank 1 on a worker thread (shared memory needs another thread or process: a rank polls synchronously).
 * `script` is the body of an async function of (group, data, post) run there after the rendezvous.
 */
function startRank1(masterPort: number, script: string, options: Record<string, unknown> = {}): { worker: Worker; messages: unknown[]; done: Promise<void> } {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(${JSON.stringify(TSX_API_URL)}).then(async (m) => {
      m.register();
      const { ProcessGroup } = await import(${JSON.stringify(GROUP_URL)});
      const group = await ProcessGroup.create({ rank: 1, worldSize: 2, masterAddr: '127.0.0.1', masterPort: workerData.masterPort, timeoutMs: 5000, rendezvousTimeoutMs: 10000, ...workerData.options });
      const post = (v) => parentPort.postMessage(v);
      post({ transports: group.transports });
      try {
        await (async (group, post) => { ${script} })(group, post);
      } catch (err) {
        post({ error: err.message });
      }
      group.close();
    });`;
  const worker = new Worker(code, { eval: true, workerData: { masterPort, options } });
  const messages: unknown[] = [];
  worker.on('message', (m) => messages.push(m));
  const done = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
  return { worker, messages, done };
}

const shmDir = sharedMemoryDir();
/** The float32 sum of the last elements: rank 0 sends i + 1, rank 1 i · 0.25. */
const lastSum = (n: number) => Math.fround(Math.fround(n) + Math.fround((n - 1) * 0.25));

describe('shared-memory links (rank 1 on a worker thread)', () => {
  test('all-reduce (small, and past the shared-memory frame limit), broadcast and gather; nothing left in /dev/shm', async (t) => {
    if (shmDir === null) return t.skip('no writable /dev/shm here');
    const masterPort = await freePort();
    const big = SHM_MAX_FRAME_BYTES / 4 + 1000;
    const rank1 = startRank1(
      masterPort,
      `
      for (const n of [3, 16384, ${big}, 5]) {
        const sum = await group.allReduceSum(Float32Array.from({ length: n }, (_, i) => i * 0.25));
        post({ n, head: [...sum.subarray(0, 3)], last: sum[n - 1] });
      }
      post({ ids: [...(await group.broadcastInt32(null))] });
      await group.gatherToRoot(new Float32Array([7, 8]));
      await group.allReduceSum(new Float32Array(1));
    `,
    );
    const root = await ProcessGroup.create({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort, timeoutMs: 5000, rendezvousTimeoutMs: 10_000 });
    try {
      assert.match(root.transports[0]!, /rank 1 over shared memory \(\+ unix socket\)/);
      assert.deepEqual(
        fs.readdirSync(shmDir).filter((f) => f.startsWith(`tessera-tp-${masterPort}-`)),
        [],
        'the files are unlinked once both ends hold them',
      );
      for (const n of [3, 16384, big, 5]) {
        const sum = await root.allReduceSum(Float32Array.from({ length: n }, (_, i) => i + 1));
        assert.deepEqual([...sum.subarray(0, 3)], [1, 2.25, 3.5].slice(0, Math.min(3, n)));
        assert.equal(sum[n - 1], lastSum(n));
      }
      assert.deepEqual(await root.broadcastInt32(new Int32Array([4, -1, 9])), new Int32Array([4, -1, 9]));
      const parts = await root.gatherToRoot(new Float32Array([1, 2]));
      assert.deepEqual(
        parts!.map((p) => [...p]),
        [
          [1, 2],
          [7, 8],
        ],
      );
      await root.allReduceSum(new Float32Array(1));
    } finally {
      root.close();
      await rank1.done;
    }
    const [hello, ...rest] = rank1.messages as Record<string, unknown>[];
    assert.match((hello!.transports as string[])[0]!, /rank 0 over shared memory/);
    assert.equal(rest.length, 5, JSON.stringify(rest.filter((m) => 'error' in m)));
    for (const m of rest.slice(0, 4)) assert.equal(m.last, lastSum(m.n as number), `rank 1 got the same sums (n = ${m.n})`);
    assert.deepEqual(rest[4], { ids: [4, -1, 9] });
  });

  test('a silent peer times out; a peer that goes away is noticed at once', async (t) => {
    if (shmDir === null) return t.skip('no writable /dev/shm here');
    const masterPort = await freePort();
    const rank1 = startRank1(masterPort, `await new Promise((r) => setTimeout(r, 600));`);
    const root = await ProcessGroup.create({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort, timeoutMs: 300, rendezvousTimeoutMs: 10_000 });
    try {
      await assert.rejects(root.allReduceSum(new Float32Array(2)), /rank 1 over shared memory .* sent no all-reduce partial within 300 ms/);
    } finally {
      root.close();
      await rank1.done;
    }

    const port2 = await freePort();
    const rank1b = startRank1(port2, `await new Promise((r) => setTimeout(r, 200));`);
    const root2 = await ProcessGroup.create({
      rank: 0,
      worldSize: 2,
      masterAddr: '127.0.0.1',
      masterPort: port2,
      timeoutMs: 30_000,
      rendezvousTimeoutMs: 10_000,
    });
    try {
      const started = Date.now();
      await assert.rejects(root2.allReduceSum(new Float32Array(2)), /closed|failed/);
      assert.ok(Date.now() - started < 2000, 'noticed without waiting for the 30 s timeout');
    } finally {
      root2.close();
      await rank1b.done;
    }
  });

  test('sharedMemory: false keeps the ranks on the Unix socket', async () => {
    const masterPort = await freePort();
    const rank1 = startRank1(masterPort, `await group.allReduceSum(new Float32Array([1]));`, { sharedMemory: false });
    const root = await ProcessGroup.create({
      rank: 0,
      worldSize: 2,
      masterAddr: '127.0.0.1',
      masterPort,
      sharedMemory: false,
      timeoutMs: 5000,
      rendezvousTimeoutMs: 10_000,
    });
    try {
      assert.match(root.transports[0]!, /^rank 1 over unix socket$/);
      assert.deepEqual(await root.allReduceSum(new Float32Array([2])), new Float32Array([3]));
    } finally {
      root.close();
      await rank1.done;
    }
  });
});
