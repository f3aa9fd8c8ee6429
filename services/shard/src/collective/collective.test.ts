// @module Framing and the star collectives between real sockets (TCP and Unix) in one process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asFloat32, asInt32, FrameDecoder, frameHeader, FrameKind } from './framing.ts';
import { ProcessGroup } from './group.ts';
import { freePort } from '@tessera/testing';

async function makeGroups(world: number, transport: 'auto' | 'tcp', timeoutMs = 5000): Promise<ProcessGroup[]> {
  const masterPort = await freePort();
  // Peers start first: they must retry until rank 0 listens.
  return Promise.all(
    Array.from({ length: world }, (_, r) => r)
      .reverse()
      .map((rank) => ProcessGroup.create({ rank, worldSize: world, masterAddr: '127.0.0.1', masterPort, transport, timeoutMs, rendezvousTimeoutMs: 10_000 })),
  ).then((gs) => gs.reverse());
}

describe('framing', () => {
  test('frames survive any chunking, including byte-by-byte and many frames per chunk', () => {
    const a = new Float32Array([1.5, -2, 3e-8, Infinity]);
    const b = new Int32Array([7, -1]);
    const wire = Buffer.concat([
      frameHeader(FrameKind.f32, a.byteLength),
      Buffer.from(a.buffer),
      frameHeader(FrameKind.i32, b.byteLength),
      Buffer.from(b.buffer),
      frameHeader(FrameKind.json, 0),
    ]);
    for (const step of [1, 3, 8, 13, wire.length]) {
      const d = new FrameDecoder();
      const frames = [];
      for (let i = 0; i < wire.length; i += step) frames.push(...d.push(wire.subarray(i, i + step)));
      assert.equal(frames.length, 3, `chunk size ${step}`);
      assert.deepEqual([...asFloat32(frames[0]!)], [...a]);
      assert.deepEqual([...asInt32(frames[1]!)], [...b]);
      assert.equal(frames[2]!.payload.length, 0);
      assert.equal(frames[1]!.kind, FrameKind.i32);
    }
  });

  test('an unknown frame kind is rejected', () => {
    const bad = Buffer.alloc(8);
    bad.writeUInt32LE(0, 0);
    bad.writeUInt32LE(99, 4);
    assert.throws(() => new FrameDecoder().push(bad), /unknown kind 99/);
  });
});

for (const transport of ['auto', 'tcp'] as const) {
  describe(`collectives over ${transport === 'auto' ? 'Unix sockets' : 'TCP'}`, () => {
    for (const world of [2, 4]) {
      test(`world ${world}: all-reduce sums, broadcast and gather deliver`, async () => {
        const groups = await makeGroups(world, transport);
        try {
          for (const g of groups.slice(1)) assert.match(g.transports[0]!, transport === 'auto' ? /unix socket/ : /tcp/);
          // 100k floats: frames span many socket chunks.
          const n = 100_000;
          const inputs = groups.map((_, r) => Float32Array.from({ length: n }, (_, i) => (r + 1) * 0.5 + i));
          const want = Float32Array.from({ length: n }, (_, i) => inputs.reduce((s, x) => s + x[i]!, 0));
          for (let round = 0; round < 3; round++) {
            const outs = await Promise.all(groups.map((g, r) => g.allReduceSum(Float32Array.from(inputs[r]!))));
            for (const o of outs) assert.deepEqual(o, want);
          }
          const ids = await Promise.all(groups.map((g) => g.broadcastInt32(g.rank === 0 ? new Int32Array([5, 9, 2]) : null)));
          for (const x of ids) assert.deepEqual([...x], [5, 9, 2]);
          const gathered = await Promise.all(groups.map((g) => g.gatherToRoot(new Float32Array([g.rank, g.rank * 10]))));
          assert.deepEqual(
            gathered[0]!.map((p) => [...p]),
            groups.map((_, r) => [r, r * 10]),
          );
          for (const x of gathered.slice(1)) assert.equal(x, null);
          assert.equal(groups[0]!.stats.allReduceCount, 3);
        } finally {
          for (const g of groups) g.close();
        }
      });
    }
  });
}

describe('failures', () => {
  test('a peer that closes makes the others fail fast with a clear error, and later calls fail too', async () => {
    const groups = await makeGroups(3, 'auto', 30_000);
    try {
      groups[2]!.close();
      const started = Date.now();
      const results = await Promise.allSettled([groups[0]!.allReduceSum(new Float32Array(4)), groups[1]!.allReduceSum(new Float32Array(4))]);
      assert.ok(Date.now() - started < 2000, 'failure noticed without waiting for the timeout');
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.match((r as PromiseRejectedResult).reason.message, /closed|failed/);
      }
      await assert.rejects(groups[1]!.broadcastInt32(null), /closed|failed/);
    } finally {
      for (const g of groups) g.close();
    }
  });

  test('a silent peer times out', async () => {
    const groups = await makeGroups(2, 'tcp', 300);
    try {
      await assert.rejects(groups[0]!.allReduceSum(new Float32Array(2)), /sent no all-reduce partial within 300 ms/);
    } finally {
      for (const g of groups) g.close();
    }
  });

  test('a missing rank fails the rendezvous with the rank named', async () => {
    const masterPort = await freePort();
    await assert.rejects(
      ProcessGroup.create({ rank: 0, worldSize: 3, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 300 }),
      /ranks 1, 2 of 3 did not join/,
    );
    await assert.rejects(
      ProcessGroup.create({ rank: 1, worldSize: 2, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 300 }),
      /rank 1 could not reach rank 0/,
    );
  });

  test('a rank that joined but never gets the start signal says so (another rank missing), not just a timeout', async () => {
    const masterPort = await freePort();
    const root = ProcessGroup.create({ rank: 0, worldSize: 3, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 1500 });
    root.catch(() => {});
    await assert.rejects(
      ProcessGroup.create({ rank: 1, worldSize: 3, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 400 }),
      (err: Error & { code?: string }) => {
        assert.match(err.message, /^rank 1: rank 0 \(127\.0\.0\.1:\d+\) did not start the group within 0\.4 s \(another rank missing\?\)$/);
        assert.equal(err.code, 'COLLECTIVE');
        return true;
      },
    );
    await assert.rejects(root, /rank 2 of 3 did not join/);
  });

  test('a world-size mismatch is refused', async () => {
    const masterPort = await freePort();
    const root = ProcessGroup.create({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 1500 });
    root.catch(() => {});
    await assert.rejects(
      ProcessGroup.create({ rank: 1, worldSize: 3, masterAddr: '127.0.0.1', masterPort, rendezvousTimeoutMs: 1500 }),
      /world size 3 does not match rank 0's 2/,
    );
    await assert.rejects(root, /rank 1 of 2 did not join/);
  });
});
