// A shard killed and restarted on the same port under a running router, with load running: every
// request ends exactly once, /health is 503 until the router has re-warmed the new shard, and service
// resumes by itself within seconds.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ensureGeneratedModel } from '@tessera/model-files';
import { freePort } from './helpers/ports.ts';
import { waitForShard } from '../services/launcher/src/readiness.ts';
import { TEST_CACHE } from './helpers/paths.ts';
import { readSse } from './helpers/sse.ts';
import { startService, waitUntil, type Service } from './helpers/services.ts';

const services: Service[] = [];
after(async () => {
  for (const s of services.reverse()) await s.stop(2000);
});

interface Outcome {
  status: number;
  /** Terminal events seen (final token with generated_text, or error): must be exactly 1 for a 200 stream. */
  terminals: number;
  error: string | null;
  endedAt: number;
}

/** One streamed generation; a request that takes longer than `hungMs` counts as hung (a test failure). */
async function streamOnce(url: string, hungMs: number): Promise<Outcome> {
  const res = await fetch(`${url}/generate_stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: 'Once upon a time', parameters: { max_new_tokens: 24 } }),
    signal: AbortSignal.timeout(hungMs),
  });
  if (res.status !== 200) {
    const body = (await res.json()) as { error?: string };
    return { status: res.status, terminals: 1, error: body.error ?? 'no error message', endedAt: Date.now() };
  }
  const events = (await readSse(res)).map((d) => JSON.parse(d) as { generated_text?: string | null; error?: string });
  const terminals = events.filter((e) => typeof e.generated_text === 'string' || e.error !== undefined).length;
  const error = events.find((e) => e.error !== undefined)?.error ?? null;
  return { status: 200, terminals, error, endedAt: Date.now() };
}

function shardArgs(model: string, port: number, tp?: { rank: number; masterPort: number }): string[] {
  const group = tp === undefined ? [] : ['--rank', String(tp.rank), '--world-size', '2', '--master-addr', '127.0.0.1', '--master-port', String(tp.masterPort)];
  return [
    'shard',
    '--model-id',
    model,
    '--port',
    String(port),
    '--threads',
    '1',
    '--cache-dir',
    path.join(TEST_CACHE, 'graphs'),
    '--log-level',
    'warn',
    ...group,
  ];
}

test('a shard killed and restarted under load: no request hangs or is lost, /health 503 until re-warmed, service resumes by itself', async () => {
  const model = await ensureGeneratedModel(TEST_CACHE, 'tiny');
  const shardPort = await freePort();
  const routerPort = await freePort();
  const url = `http://127.0.0.1:${routerPort}`;
  const never = new Promise<void>(() => {});
  services.push(startService('shard', shardArgs(model, shardPort)));
  await waitForShard(`127.0.0.1:${shardPort}`, 120_000, never);
  const router = startService('router', [
    'router',
    '--model-id',
    model,
    '--shard-uris',
    `127.0.0.1:${shardPort}`,
    '--port',
    String(routerPort),
    '--log-level',
    'warn',
  ]);
  services.push(router);
  await waitUntil('router /health', async () => (await fetch(`${url}/health`)).status === 200, 60_000, [router]);

  // Load: 6 clients, each sending one streamed request after another until told to stop.
  const outcomes: Outcome[] = [];
  let stop = false;
  const clients = Array.from({ length: 6 }, async () => {
    while (!stop) {
      const o = await streamOnce(url, 60_000);
      outcomes.push(o);
      if (o.error !== null) await new Promise((r) => setTimeout(r, 50)); // as a client backing off would
    }
  });
  await waitUntil('some requests served', async () => outcomes.filter((o) => o.error === null).length >= 12, 60_000, [router]);

  services[0]!.process.kill('SIGKILL');
  await services[0]!.exited;
  const killedAt = Date.now();
  await waitUntil('/health 503 after the kill', async () => (await fetch(`${url}/health`)).status === 503, 5_000, [router]);
  const restarted = startService('shard (restarted)', shardArgs(model, shardPort));
  services.push(restarted);
  await waitForShard(`127.0.0.1:${shardPort}`, 120_000, never);
  const shardBackAt = Date.now();
  await waitUntil('/health 200 again', async () => (await fetch(`${url}/health`)).status === 200, 10_000, [router, restarted]);
  const healthyAt = Date.now();
  const servedAfter = () => outcomes.filter((o) => o.error === null && o.status === 200 && o.endedAt > healthyAt).length;
  await waitUntil('requests served after the restart', async () => servedAfter() >= 12, 30_000, [router, restarted]);
  stop = true;
  await Promise.all(clients);

  for (const o of outcomes) assert.equal(o.terminals, 1, `exactly one terminal event or response: ${JSON.stringify(o)}`);
  const failed = outcomes.filter((o) => o.error !== null);
  assert.ok(failed.length > 0, 'the kill failed the requests running then');
  for (const o of failed) assert.ok(o.status === 200 || o.status === 503 || o.status === 424, `failure status ${o.status}: ${o.error}`);
  // Everything that failed did so around the outage, not after service resumed.
  for (const o of failed) assert.ok(o.endedAt <= healthyAt + 1000, `a request failed ${o.endedAt - healthyAt} ms after /health was 200 again: ${o.error}`);
  // Bounded by the waitUntil above (10 s); typically ~1 s plus one Warmup.
  assert.ok(healthyAt - shardBackAt < 10_000, `re-warmed ${healthyAt - shardBackAt} ms after the shard answered`);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /tessera_requests_in_flight\{[^}]*\} 0\b/);
  assert.match(metrics, /tessera_kv_blocks\{state="used"[^}]*\} 0\b/);
  assert.match(metrics, /tessera_shard_recoveries_total\{[^}]*\} 1\b/);
  console.log(
    `killed → shard answering ${shardBackAt - killedAt} ms → /health 200 after ${healthyAt - shardBackAt} ms; ${outcomes.length} requests, ${failed.length} failed around the outage`,
  );
});

test('a tensor-parallel rank killed and restarted under load: the surviving rank re-forms the group, the router re-warms both, service resumes', async () => {
  const model = await ensureGeneratedModel(TEST_CACHE, 'tp4');
  const masterPort = await freePort();
  const ports = [await freePort(), await freePort()];
  const routerPort = await freePort();
  const url = `http://127.0.0.1:${routerPort}`;
  const never = new Promise<void>(() => {});
  const ranks = [0, 1].map((rank) => startService(`rank ${rank}`, shardArgs(model, ports[rank]!, { rank, masterPort })));
  services.push(...ranks);
  await Promise.all(ports.map((p) => waitForShard(`127.0.0.1:${p}`, 120_000, never)));
  const router = startService('router (tp)', [
    'router',
    '--model-id',
    model,
    '--shard-uris',
    ports.map((p) => `127.0.0.1:${p}`).join(','),
    '--port',
    String(routerPort),
    '--log-level',
    'warn',
  ]);
  services.push(router);
  await waitUntil('router /health', async () => (await fetch(`${url}/health`)).status === 200, 60_000, [router]);

  const outcomes: Outcome[] = [];
  let stop = false;
  const clients = Array.from({ length: 3 }, async () => {
    while (!stop) {
      const o = await streamOnce(url, 60_000);
      outcomes.push(o);
      if (o.error !== null) await new Promise((r) => setTimeout(r, 50));
    }
  });
  await waitUntil('some requests served', async () => outcomes.filter((o) => o.error === null).length >= 6, 60_000, [router]);
  ranks[1]!.process.kill('SIGKILL');
  await ranks[1]!.exited;
  await waitUntil('/health 503 after the kill', async () => (await fetch(`${url}/health`)).status === 503, 5_000, [router]);
  const restartedAt = Date.now();
  const restarted = startService('rank 1 (restarted)', shardArgs(model, ports[1]!, { rank: 1, masterPort }));
  services.push(restarted);
  await waitUntil('/health 200 again', async () => (await fetch(`${url}/health`)).status === 200, 120_000, [router, ranks[0]!, restarted]);
  const healthyAt = Date.now();
  console.log(`tensor parallel: rank 1 restarted → group re-formed and re-warmed, /health 200 after ${healthyAt - restartedAt} ms`);
  await waitUntil('requests served after the restart', async () => outcomes.filter((o) => o.error === null && o.endedAt > healthyAt).length >= 6, 60_000, [
    router,
    ranks[0]!,
    restarted,
  ]);
  stop = true;
  await Promise.all(clients);

  for (const o of outcomes) assert.equal(o.terminals, 1, `exactly one terminal event or response: ${JSON.stringify(o)}`);
  assert.ok(
    outcomes.some((o) => o.error !== null),
    'the kill failed the requests running then',
  );
  for (const o of outcomes.filter((x) => x.error !== null)) assert.ok(o.endedAt <= healthyAt + 1000, `failed after recovery: ${o.error}`);
  assert.ok(ranks[0]!.process.exitCode === null, 'rank 0 was not restarted: it re-formed the group itself');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /tessera_requests_in_flight\{[^}]*\} 0\b/);
  assert.match(metrics, /tessera_kv_blocks\{state="used"[^}]*\} 0\b/);
});
