// `tessera health`: the probes against a real gRPC server and a real HTTP server, healthy and not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startShardServer } from '@tessera/shard';
import { healthTargets, httpHealthy, shardHealthy } from './health-check.ts';
import { healthOnlyHandlers as handlers } from '../../shard/src/health-handlers.test-helper.ts';

test('shardHealthy follows the gRPC Health call; a closed port is unhealthy', async () => {
  let ok = true;
  const server = await startShardServer(
    handlers(() => ok),
    '127.0.0.1',
    0,
  );
  try {
    assert.equal(await shardHealthy(`127.0.0.1:${server.port}`, 2000), true);
    ok = false;
    assert.equal(await shardHealthy(`127.0.0.1:${server.port}`, 2000), false);
  } finally {
    await server.shutdown(1000);
  }
  assert.equal(await shardHealthy(`127.0.0.1:${server.port}`, 1000), false);
});

test('httpHealthy needs a 200', async () => {
  let status = 200;
  const server = http.createServer((_req, res) => res.writeHead(status).end('x'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
  try {
    assert.equal(await httpHealthy(url, 2000), true);
    status = 503;
    assert.equal(await httpHealthy(url, 2000), false);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  assert.equal(await httpHealthy(url, 1000), false);
});

test('without a target, both probes aim at this container’s TESSERA_PORT (or the defaults)', () => {
  assert.deepEqual(healthTargets(new Map(), { TESSERA_PORT: '9000' }), { grpc: ['127.0.0.1:9000'], http: ['http://127.0.0.1:9000/health'] });
  assert.deepEqual(healthTargets(new Map(), {}), { grpc: ['127.0.0.1:50051'], http: ['http://127.0.0.1:8080/health'] });
  assert.deepEqual(healthTargets(new Map([['grpc', 'shard-0:50051']]), { TESSERA_PORT: '1' }), { grpc: ['shard-0:50051'], http: [] });
});
