// The launcher supervises its children: a signal stops them all; a dying child takes it down non-zero.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startCluster } from './helpers/cluster.ts';

/** The launcher's service children by role (tsx may also run an esbuild helper process under it). */
function serviceChildren(pid: number): { shard: number[]; router: number[] } {
  let lines: string[] = [];
  try {
    lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' }).trim().split('\n');
  } catch {
    // ps exits 1 when there are no children
  }
  const of = (role: string) => lines.filter((l) => l.includes(`tessera.js ${role} `)).map((l) => Number(l.trim().split(/\s+/)[0]));
  return { shard: of('shard'), router: of('router') };
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('tessera launch supervision', () => {
  test('SIGTERM stops the router and every shard, exit code 0', async (t) => {
    const cluster = await startCluster();
    t.after(() => cluster.stop()); // a no-op once the launcher exited; cleans up when an assertion fails
    const { shard, router } = serviceChildren(cluster.launcher.pid!);
    assert.equal(shard.length, 1, cluster.output());
    assert.equal(router.length, 1, cluster.output());
    const children = [...shard, ...router];
    cluster.launcher.kill('SIGTERM');
    assert.equal(await cluster.exited, 0);
    for (const pid of children) assert.equal(alive(pid), false, `child ${pid} still alive`);
  });

  test('with --shard-restarts 0 a shard that dies is reported, the others are stopped, and the launcher exits non-zero', async (t) => {
    const cluster = await startCluster(['--shard-restarts', '0']);
    t.after(() => cluster.stop());
    const { shard: [shardPid], router: [routerPid] } = serviceChildren(cluster.launcher.pid!);
    process.kill(shardPid!, 'SIGKILL');
    const code = await Promise.race([cluster.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    assert.equal(code, 1, cluster.output());
    assert.match(cluster.output(), /shard 0 exited unexpectedly/);
    assert.equal(alive(routerPid!), false);
  });

  test('a shard that dies is started again on its port and the router serves again by itself (--shard-restarts)', async (t) => {
    const cluster = await startCluster(['--shard-restarts', '1']);
    t.after(() => cluster.stop());
    const generate = () => fetch(`${cluster.url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: 'Hello', parameters: { max_new_tokens: 4 } }) });
    assert.equal((await generate()).status, 200);
    const { shard: [shardPid] } = serviceChildren(cluster.launcher.pid!);
    process.kill(shardPid!, 'SIGKILL');
    const deadline = Date.now() + 60_000;
    let status = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      const health = await fetch(`${cluster.url}/health`).then((r) => r.status, () => 0);
      if (health === 200 && (status = (await generate()).status) === 200) break;
    }
    assert.equal(status, 200, cluster.output());
    assert.match(cluster.output(), /shard 0 exited unexpectedly \(signal SIGKILL\); starting it again \(1\/1\)/);
    const { shard: [newPid] } = serviceChildren(cluster.launcher.pid!);
    assert.notEqual(newPid, shardPid);
    // The one restart is used: the next death ends the run.
    process.kill(newPid!, 'SIGKILL');
    const code = await Promise.race([cluster.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    assert.equal(code, 1, cluster.output());
  });
});
