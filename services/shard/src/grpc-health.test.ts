// grpc.health.v1 on the shard's gRPC server: Check and Watch follow the runner's health; unknown services; shutdown ends watches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpc } from '@tessera/protocol';
import { HealthClient } from './grpc-health.ts';
import { startShardServer } from './server.ts';
import { healthOnlyHandlers as handlers } from './health-handlers.test-helper.ts';

type Client = grpc.Client & {
  Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

function check(client: Client, service: string): Promise<string> {
  return new Promise((resolve, reject) => client.Check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))));
}

test('Check: SERVING for "" and the shard service while the runner is healthy, NOT_SERVING when not, NOT_FOUND for others', async (t) => {
  let ok = true;
  const server = await startShardServer(
    handlers(() => ok),
    '127.0.0.1',
    0,
  );
  const client = new HealthClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as Client;
  t.after(async () => {
    client.close();
    await server.shutdown(1000);
  });
  assert.equal(await check(client, ''), 'SERVING');
  assert.equal(await check(client, 'tessera.v1.TextGenerationService'), 'SERVING');
  await assert.rejects(check(client, 'other.Service'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
  ok = false;
  assert.equal(await check(client, ''), 'NOT_SERVING');
});

test('Watch: the current status at once, each change after; the stream ends at shutdown', async () => {
  let ok = true;
  const server = await startShardServer(
    handlers(() => ok),
    '127.0.0.1',
    0,
  );
  const client = new HealthClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as unknown as Client;
  const seen: string[] = [];
  const stream = client.Watch({ service: '' });
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('error', () => resolve());
  });
  const next = (n: number) =>
    new Promise<void>((resolve) => {
      const onData = (m: { status: string }) => {
        seen.push(m.status);
        if (seen.length >= n) {
          stream.off('data', onData);
          resolve();
        }
      };
      stream.on('data', onData);
    });
  await next(1);
  ok = false;
  await next(2);
  const stopping = server.shutdown(5000);
  await ended;
  const started = Date.now();
  await stopping;
  client.close();
  assert.deepEqual(seen.slice(0, 2), ['SERVING', 'NOT_SERVING']);
  assert.ok(Date.now() - started < 4000, 'an open Watch does not hold the graceful shutdown');
});
