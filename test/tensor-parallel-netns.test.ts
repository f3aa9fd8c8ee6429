// Cross-host tensor parallelism: two shards in two network namespaces (veth links) talk TCP and give the one-shard greedy tokens.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ensureGeneratedModel } from '@tessera/model-files';
import { freePort } from './helpers/ports.ts';
import { waitForShard } from '../services/launcher/src/readiness.ts';
import { startCluster } from './helpers/cluster.ts';
import { TEST_CACHE } from './helpers/paths.ts';
import { startService, waitUntil, type Service } from './helpers/services.ts';
import { postJson } from './helpers/sse.ts';

const id = process.pid % 100_000;
const NS = [`tsr-a-${id}`, `tsr-b-${id}`];
// /30 links: root↔A (the router reaches shard 0), root↔B (shard 1), A↔B (the collective, TCP).
const net = 10 + (id % 200);
const ADDR = { rootA: `10.${net}.1.1`, aRoot: `10.${net}.1.2`, rootB: `10.${net}.2.1`, bRoot: `10.${net}.2.2`, aB: `10.${net}.3.1`, bA: `10.${net}.3.2` };
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe', encoding: 'utf8' });
const services: Service[] = [];
let created = false;

function cleanUp(): void {
  // Deleting a namespace deletes its veth ends, and with them their peers in the root namespace.
  for (const ns of NS) {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* already gone */
    }
  }
}

after(async () => {
  for (const s of services.reverse()) await s.stop(2000);
  if (created) cleanUp();
});

/** Creates the namespaces and links; returns why it cannot where namespaces are not permitted. */
function setUpNetwork(): string | null {
  try {
    ip('netns', 'add', NS[0]!);
  } catch (err) {
    const why = (err as { stderr?: string; code?: string }).stderr?.trim() || (err as Error).message;
    return `creating a network namespace is not permitted here (${why})`;
  }
  created = true;
  ip('netns', 'add', NS[1]!);
  const link = (a: string, nsA: string | null, addrA: string, b: string, nsB: string, addrB: string) => {
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    if (nsA) ip('link', 'set', a, 'netns', nsA);
    ip('link', 'set', b, 'netns', nsB);
    ip(...(nsA ? ['-n', nsA] : []), 'addr', 'add', `${addrA}/30`, 'dev', a);
    ip('-n', nsB, 'addr', 'add', `${addrB}/30`, 'dev', b);
    ip(...(nsA ? ['-n', nsA] : []), 'link', 'set', a, 'up');
    ip('-n', nsB, 'link', 'set', b, 'up');
  };
  for (const ns of NS) ip('-n', ns, 'link', 'set', 'lo', 'up');
  link(`tra${id}`, null, ADDR.rootA, `tar${id}`, NS[0]!, ADDR.aRoot);
  link(`trb${id}`, null, ADDR.rootB, `tbr${id}`, NS[1]!, ADDR.bRoot);
  link(`tab${id}`, NS[0]!, ADDR.aB, `tba${id}`, NS[1]!, ADDR.bA);
  return null;
}

async function greedy(url: string, prompts: string[]): Promise<number[][]> {
  return Promise.all(
    prompts.map(async (inputs) => {
      const res = await postJson(`${url}/generate`, { inputs, parameters: { max_new_tokens: 12, details: true } });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { details: { tokens: { id: number }[] } }).details.tokens.map((t) => t.id);
    }),
  );
}

test('two shards in two network namespaces, linked over TCP, give the one-shard greedy tokens', async (t) => {
  const model = await ensureGeneratedModel(TEST_CACHE, 'tp4');
  const cannot = setUpNetwork();
  if (cannot) return t.skip(cannot);

  const prompts = ['Once upon a time', 'Across two hosts'];
  const single = await startCluster(['--model-id', model, '--num-shard', '1']);
  let reference: number[][];
  try {
    reference = await greedy(single.url, prompts);
  } finally {
    await single.stop();
  }
  const grpcPort = 50051;
  const masterPort = 29500;
  const cacheDir = path.join(TEST_CACHE, 'graphs');
  NS.forEach((ns, rank) =>
    services.push(
      startService(
        `shard ${rank} (${ns})`,
        [
          'shard',
          '--model-id',
          model,
          '--hostname',
          '0.0.0.0',
          '--port',
          String(grpcPort),
          '--rank',
          String(rank),
          '--world-size',
          '2',
          '--master-addr',
          ADDR.aB,
          '--master-port',
          String(masterPort),
          '--threads',
          '1',
          '--cache-dir',
          cacheDir,
          '--log-level',
          'info',
        ],
        { netns: ns },
      ),
    ),
  );
  const shardUris = [`${ADDR.aRoot}:${grpcPort}`, `${ADDR.bRoot}:${grpcPort}`];
  const stopped = Promise.race(
    services.map((s) =>
      s.exited.then(() => {
        throw new Error(`${s.name} exited:\n${s.output()}`);
      }),
    ),
  );
  stopped.catch(() => {});
  await Promise.race([Promise.all(shardUris.map((u) => waitForShard(u, 120_000, stopped))), stopped]);
  // Different network namespaces: rank 1 must not have switched to a Unix socket.
  assert.match(services[1]!.output(), /rank 0 over tcp 10\.\d+\.3\.1:29500.*tensor-parallel group ready/);

  const routerPort = await freePort();
  const url = `http://127.0.0.1:${routerPort}`;
  services.push(
    startService('router', ['router', '--model-id', model, '--shard-uris', shardUris.join(','), '--port', String(routerPort), '--log-level', 'warn']),
  );
  await waitUntil('router /health', async () => (await fetch(`${url}/health`)).status === 200, 60_000, services);
  assert.deepEqual(await greedy(url, prompts), reference);
});
