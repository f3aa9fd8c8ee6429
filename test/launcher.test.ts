// The launcher supervises its children: a dying child takes it down non-zero, or is started again.
// (SIGTERM stopping every child with exit code 0 is checked by graceful-shutdown.test.ts, on its drain.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './helpers/cluster.ts';
import { alive, serviceChildren } from './helpers/processes.ts';

describe('tessera launch supervision', () => {
  test('with --shard-restarts 0 a shard that dies is reported, the others are stopped, and the launcher exits non-zero', async (t) => {
    const cluster = await startCluster(['--shard-restarts', '0']);
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
    const cluster = await startCluster(['--shard-restarts', '1']);
    t.after(() => cluster.stop());
    const generate = () =>
      fetch(`${cluster.url}/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 4 } }),
      });
    assert.equal((await generate()).status, 200);
    const {
      shard: [shardPid],
    } = serviceChildren(cluster.launcher.pid!);
    process.kill(shardPid!, 'SIGKILL');
    const deadline = Date.now() + 60_000;
    let status = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const health = await fetch(`${cluster.url}/health`).then(
        (r) => r.status,
        () => 0,
      );
      if (health === 200 && (status = (await generate()).status) === 200) break;
    }
    assert.equal(status, 200, cluster.output());
    assert.match(cluster.output(), /shard 0 exited unexpectedly \(signal SIGKILL\); starting it again \(1\/1\)/);
    const {
      shard: [newPid],
    } = serviceChildren(cluster.launcher.pid!);
    assert.notEqual(newPid, shardPid);
    // The one restart is used: the next death ends the run.
    process.kill(newPid!, 'SIGKILL');
    const code = await Promise.race([cluster.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    assert.equal(code, 1, cluster.output());
  });
});
