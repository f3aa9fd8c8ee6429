// The Calls stream between a real grpc-js server (protocol's service implementation) and ShardClient: replies matched by id, errors as their unary forms, unary fallback, drain on shutdown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grpc, OpenCalls, type PrefillResponse, serviceDefinition, type ShardHandlers, toServiceImplementation } from '@tessera/protocol';
import { ShardClient, ShardError } from './shard-client.ts';

const timings = { forwardNs: 1, sampleNs: 0, totalNs: 1, computedTokens: 1, draftTokens: 0, acceptedDraftTokens: 0 };
const reply = (id: number): PrefillResponse => ({ generations: [], batch: { id, requestIds: [id], size: 1, maxTokens: 8 }, timings });
const batch = (id: number) => ({ id, requests: [], size: 0, maxTokens: 8 });

/** Handlers whose prefill answers after `delayMs(batch id)`; batch 13 fails as an invalid argument. */
function handlers(calls: string[], delayMs: (id: number) => number = () => 0): ShardHandlers {
  const nope = () => Promise.reject(new Error('not used'));
  return {
    info: nope,
    health: async () => ({ instanceId: 'x', warmedUp: true }),
    warmup: nope,
    prefill: async (req) => {
      calls.push(`prefill ${req.batch.id}`);
      await new Promise((r) => setTimeout(r, delayMs(req.batch.id)));
      if (req.batch.id === 13) throw Object.assign(new Error('batch 13 is unlucky'), { grpcCode: grpc.status.INVALID_ARGUMENT });
      return reply(req.batch.id);
    },
    decode: nope,
    decodeStream: () => {
      throw new Error('not used');
    },
    filterBatch: async (req) => {
      calls.push(`filter ${req.batchId}`);
      return { batch: null };
    },
    clearCache: async () => {
      calls.push('clear');
    },
  };
}

async function serve(impl: grpc.UntypedServiceImplementation) {
  const server = new grpc.Server();
  server.addService(serviceDefinition, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port };
}

test('concurrent calls on one stream: each reply reaches its caller, out of order too; errors keep their gRPC code', async () => {
  const calls: string[] = [];
  const { server, port } = await serve(toServiceImplementation(handlers(calls, (id) => (id === 1 ? 60 : 0))));
  const client = new ShardClient(`127.0.0.1:${port}`);
  try {
    const [slow, fast] = await Promise.all([client.prefill(batch(1)), client.prefill(batch(2))]);
    assert.equal(slow.batch?.id, 1);
    assert.equal(fast.batch?.id, 2);
    await assert.rejects(
      client.prefill(batch(13)),
      (err: unknown) => err instanceof ShardError && err.grpcCode === grpc.status.INVALID_ARGUMENT && /unlucky/.test(err.message) && err.method === 'Prefill',
    );
    assert.equal(await client.filterBatch(5, [1]), null);
    await client.clearCache(5);
    assert.deepEqual(calls, ['prefill 1', 'prefill 2', 'prefill 13', 'filter 5', 'clear']);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test('a shard without the Calls RPC is served by the unary calls', async () => {
  const calls: string[] = [];
  const { Calls: _omitted, ...unaryOnly } = toServiceImplementation(handlers(calls));
  const { server, port } = await serve(unaryOnly);
  const client = new ShardClient(`127.0.0.1:${port}`);
  try {
    assert.equal((await client.prefill(batch(3))).batch?.id, 3);
    assert.equal((await client.prefill(batch(4))).batch?.id, 4);
    await assert.rejects(client.prefill(batch(13)), (err: unknown) => err instanceof ShardError && err.grpcCode === grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(calls, ['prefill 3', 'prefill 4', 'prefill 13']);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test('shutdown: a call in flight is answered, then the stream ends and the server stops without waiting for its grace period', async () => {
  const calls: string[] = [];
  const open = new OpenCalls();
  const { server, port } = await serve(
    toServiceImplementation(
      handlers(calls, (id) => (id === 7 ? 100 : 0)),
      open,
    ),
  );
  const client = new ShardClient(`127.0.0.1:${port}`);
  try {
    await client.prefill(batch(6)); // the stream is open now
    const inFlight = client.prefill(batch(7));
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    open.drain();
    const stopped = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    assert.equal((await inFlight).batch?.id, 7);
    await stopped;
    assert.ok(Date.now() - started < 2_000, 'tryShutdown did not wait on the idle stream');
    // The server is gone: the next call fails as a unary call to a dead shard would.
    await assert.rejects(client.prefill(batch(8)), (err: unknown) => err instanceof ShardError && err.grpcCode === grpc.status.UNAVAILABLE);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test('a shard restarted on the same port is reached again through a new stream', async () => {
  const calls: string[] = [];
  const first = await serve(toServiceImplementation(handlers(calls)));
  const client = new ShardClient(`127.0.0.1:${first.port}`);
  try {
    assert.equal((await client.prefill(batch(1))).batch?.id, 1);
    first.server.forceShutdown();
    await assert.rejects(client.prefill(batch(2)), ShardError);
    const again = new grpc.Server();
    again.addService(serviceDefinition, toServiceImplementation(handlers(calls)));
    await new Promise<void>((resolve, reject) =>
      again.bindAsync(`127.0.0.1:${first.port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    try {
      await client.waitForReady(5_000);
      assert.equal((await client.prefill(batch(3))).batch?.id, 3);
    } finally {
      again.forceShutdown();
    }
  } finally {
    client.close();
  }
});
