// InProcessShard, the adapter between the router and a shard's handlers in its own process: calls wait for the load, failures read as a remote shard's, a continuous decode's steps, controls and half-close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grpc, type DecodeResponse, type DecodeStreamControl, type ShardHandlers } from '@tessera/protocol';
import { InProcessShard } from './in-process-shard.ts';
import { ShardError } from './shard-client.ts';

const timings = { forwardNs: 1, sampleNs: 0, totalNs: 1, computedTokens: 1, draftTokens: 0, acceptedDraftTokens: 0 };
const step = (id: number): DecodeResponse => ({ generations: [], batch: { id, requestIds: [id], size: 1, maxTokens: 8 }, timings });

/** Handlers that record their calls; decodeStream emits the steps it is told to, then ends with `end`. */
function handlers(
  calls: string[],
  controls: DecodeStreamControl[] = [],
): ShardHandlers & { emit?: (s: DecodeResponse) => void; finish?: (err?: Error) => void } {
  const h: ShardHandlers & { emit?: (s: DecodeResponse) => void; finish?: (err?: Error) => void } = {
    info: () => Promise.reject(new Error('not used')),
    health: async () => ({ instanceId: 'one', warmedUp: true }),
    warmup: () => Promise.reject(new Error('not used')),
    prefill: async (req) => {
      calls.push(`prefill ${req.batch.id}`);
      if (req.batch.id === 13) throw Object.assign(new Error('batch 13 is unlucky'), { grpcCode: grpc.status.INVALID_ARGUMENT });
      return step(req.batch.id);
    },
    decode: () => Promise.reject(new Error('no code on this one')),
    decodeStream: (req, onStep) => {
      calls.push(`stream ${req.batches.map((b) => b.id).join(',')}`);
      let settle!: (err?: Error) => void;
      const done = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
      h.emit = onStep;
      h.finish = settle;
      return { control: (c) => controls.push(c), done };
    },
    filterBatch: async (req) => ({ batch: { id: req.batchId, requestIds: req.requestIds, size: req.requestIds.length, maxTokens: 8 } }),
    clearCache: async (req) => {
      calls.push(`clear ${req.id}`);
    },
  };
  return h;
}

const batch = (id: number) => ({ id, requests: [], size: 0, maxTokens: 8 });

test('calls made while the shard loads wait for it; replies and failures read as a gRPC shard’s', async () => {
  const calls: string[] = [];
  let loaded!: (h: ShardHandlers) => void;
  const shard = new InProcessShard(new Promise((resolve) => (loaded = resolve)));
  const early = shard.prefill(batch(1));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(calls, [], 'nothing reaches a shard still loading');
  loaded(handlers(calls));
  await shard.waitForReady(1_000);
  assert.equal((await early).batch?.id, 1);
  assert.deepEqual((await shard.health()).instanceId, 'one');
  assert.deepEqual(await shard.filterBatch(4, [7, 9]), { id: 4, requestIds: [7, 9], size: 2, maxTokens: 8 });
  await shard.clearCache();
  await shard.clearCache(5);
  assert.deepEqual(calls, ['prefill 1', 'clear null', 'clear 5']);

  const unlucky = await shard.prefill(batch(13)).catch((e: unknown) => e);
  assert.ok(unlucky instanceof ShardError);
  assert.equal(unlucky.method, 'Prefill');
  assert.equal(unlucky.grpcCode, grpc.status.INVALID_ARGUMENT);
  assert.match(unlucky.message, /^shard in-process Prefill: batch 13 is unlucky$/);
  const plain = await shard.decode([]).catch((e: unknown) => e);
  assert.ok(plain instanceof ShardError);
  assert.equal(plain.grpcCode, null);
});

test('a shard that fails to load fails waitForReady and every call with its reason; a slow one times out', async () => {
  const broken = new InProcessShard(Promise.reject(new Error('model file is truncated')));
  await assert.rejects(broken.waitForReady(1_000), (e: unknown) => e instanceof ShardError && /connect: model file is truncated/.test(e.message));
  await assert.rejects(broken.prefill(batch(1)), /Prefill: model file is truncated/);
  const steps = broken.decodeStream([]).steps;
  await assert.rejects(
    (async () => {
      for await (const _ of steps);
    })(),
    /model file is truncated/,
  );
  const slow = new InProcessShard(new Promise(() => undefined));
  await assert.rejects(slow.waitForReady(20), /not loaded within 20 ms/);
});

test('a continuous decode: steps in order, controls reach the loop, close() stops it after the step in flight, errors end the steps', async () => {
  const calls: string[] = [];
  const controls: DecodeStreamControl[] = [];
  const h = handlers(calls, controls);
  const shard = new InProcessShard(Promise.resolve(h));
  await shard.waitForReady(1_000);
  const cached = [{ id: 3, requestIds: [1, 2], size: 2, maxTokens: 8 }];
  const stream = shard.decodeStream(cached);
  assert.deepEqual(calls, ['stream 3'], 'a loaded shard starts the loop at once');
  h.emit!(step(3));
  h.emit!(step(3));
  stream.control({ dropRequestIds: [2], stop: false });
  stream.close();
  stream.close();
  stream.control({ dropRequestIds: [1], stop: false });
  h.finish!();
  const got: DecodeResponse[] = [];
  for await (const s of stream.steps) got.push(s);
  assert.equal(got.length, 2);
  assert.deepEqual(controls, [
    { dropRequestIds: [2], stop: false },
    { dropRequestIds: [], stop: true },
  ]);

  const failing = shard.decodeStream(cached);
  h.finish!(Object.assign(new Error('runner thread exited (code 1)'), { grpcCode: grpc.status.UNAVAILABLE }));
  await assert.rejects(
    (async () => {
      for await (const _ of failing.steps);
    })(),
    (e: unknown) => e instanceof ShardError && e.method === 'DecodeStream' && e.grpcCode === grpc.status.UNAVAILABLE,
  );
});
