// The launcher supervises its children: a dying child takes it down non-zero, or is started again.
// (SIGTERM stopping every child with exit code 0 is checked by graceful-shutdown.test.ts, on its drain.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { alive, serviceChildren } from './helpers/processes.ts';

const generate = (url: string) =>
  fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 4 } }),
  });

/** Polls until /health is 200 and a generation succeeds (after a restart), for up to a minute; the last generation's status. */
async function servesAgain(url: string): Promise<number> {
  const status = (path: string, init?: RequestInit) =>
    fetch(`${url}${path}`, init).then(
      (r) => r.status,
      () => 0,
    );
  const deadline = Date.now() + 60_000;
  let last = 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    if ((await status('/health')) === 200 && (last = (await generate(url)).status) === 200) break;
  }
  return last;
}

/** A death beyond the restart budget ends the run: the launcher exits 1. */
async function exitsAfterKill(cluster: Cluster, pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  const code = await Promise.race([cluster.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
  assert.equal(code, 1, cluster.output());
}

describe('tessera launch supervision', () => {
  test('with --shard-restarts 0 a shard that dies is reported, the others are stopped, and the launcher exits non-zero', async (t) => {
    const cluster = await startCluster(['--shard-restarts', '0', '--shard-process']);
    t.after(() => cluster.stop());
    const {
      shard: [shardPid],
      router: [routerPid],
    } = serviceChildren(cluster.launcher.pid!);
    process.kill(shardPid!, 'SIGKILL');
    const code = await Promise.race([cluster.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    assert.equal(code, 1, cluster.output());
    assert.match(cluster.output(), /shard 0 exited unexpectedly/);
    assert.equal(alive(routerPid!), false);
  });

  test('a shard that dies is started again on its port and the router serves again by itself (--shard-restarts)', async (t) => {
    const cluster = await startCluster(['--shard-restarts', '1', '--shard-process']);
    t.after(() => cluster.stop());
    assert.equal((await generate(cluster.url)).status, 200);
    const {
      shard: [shardPid],
    } = serviceChildren(cluster.launcher.pid!);
    process.kill(shardPid!, 'SIGKILL');
    assert.equal(await servesAgain(cluster.url), 200, cluster.output());
    assert.match(cluster.output(), /shard 0 exited unexpectedly \(signal SIGKILL\); starting it again \(1\/1\)/);
    const {
      shard: [newPid],
    } = serviceChildren(cluster.launcher.pid!);
    assert.notEqual(newPid, shardPid);
    // The one restart is used: the next death ends the run.
    await exitsAfterKill(cluster, newPid!);
  });

  test('one shard in the router process: that process, when it dies, is started again in its place, and serves again', async (t) => {
    const cluster = await startCluster(['--shard-restarts', '1']);
    t.after(() => cluster.stop());
    assert.equal((await generate(cluster.url)).status, 200);
    const {
      serve: [pid],
      shard,
    } = serviceChildren(cluster.launcher.pid!);
    assert.deepEqual(shard, [], 'no shard process');
    process.kill(pid!, 'SIGKILL');
    assert.equal(await servesAgain(cluster.url), 200, cluster.output());
    assert.match(cluster.output(), /router\+shard exited unexpectedly \(signal SIGKILL\); starting it again \(1\/1\)/);
    const {
      serve: [newPid],
    } = serviceChildren(cluster.launcher.pid!);
    assert.notEqual(newPid, pid);
    await exitsAfterKill(cluster, newPid!);
  });
});
