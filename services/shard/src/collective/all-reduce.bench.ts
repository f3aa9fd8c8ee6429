// @module Bench: 2-process sum all-reduce latency over the collective (Unix socket vs TCP), by message size.
// Run: node --import tsx services/shard/src/collective/all-reduce.bench.ts [--world 2] [--iters 2000]
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { ProcessGroup } from './group.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const world = arg('world', 2);
const iters = arg('iters', 2000);
/** Floats: 2 KiB … 256 KiB (hidden 512 × 1 / 32 tokens = 2 / 64 KiB; 256 KiB = batch 32 × hidden 2048). */
const SIZES = [512, 2048, 16_384, 65_536];

async function rankMain(rank: number, port: number, transport: 'auto' | 'tcp'): Promise<void> {
  const group = await ProcessGroup.create({ rank, worldSize: world, masterAddr: '127.0.0.1', masterPort: port, transport });
  const out: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const data = new Float32Array(n).fill(rank + 1);
    for (let i = 0; i < 50; i++) await group.allReduceSum(data.slice());
    const times: number[] = [];
    for (let i = 0; i < iters; i++) {
      const t0 = process.hrtime.bigint();
      await group.allReduceSum(data.slice());
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    out.push({ kib: (n * 4) / 1024, medianMs: +times[iters >> 1]!.toFixed(4), p99Ms: +times[Math.floor(iters * 0.99)]!.toFixed(3) });
  }
  if (rank === 0) process.send!({ transport: group.transports[0], results: out });
  await group.allReduceSum(new Float32Array(1));
  group.close();
}

const role = process.env.AR_BENCH;
if (role !== undefined) {
  const [rank, port, transport] = role.split(':');
  await rankMain(Number(rank), Number(port), transport as 'auto' | 'tcp');
} else {
  for (const transport of ['auto', 'tcp'] as const) {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const self = fileURLToPath(import.meta.url);
    const children = Array.from({ length: world }, (_, rank) =>
      fork(self, process.argv.slice(2), { execArgv: ['--import', 'tsx'], env: { ...process.env, AR_BENCH: `${rank}:${port}:${transport}` } }),
    );
    const result = await new Promise((resolve) => children[0]!.once('message', resolve));
    await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
    console.log(JSON.stringify(result));
  }
}
