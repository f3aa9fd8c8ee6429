// The launcher supervises its children: a signal stops them all; a dying child takes it down non-zero.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startCluster } from './helpers/cluster.ts';

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
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
  test('SIGTERM stops the router and every shard, exit code 0', async () => {
    const cluster = await startCluster();
    const children = childPids(cluster.launcher.pid!);
    assert.equal(children.length, 2, `expected shard + router, got ${children.join(',')}`);
    cluster.launcher.kill('SIGTERM');
    assert.equal(await cluster.exited, 0);
    for (const pid of children) assert.equal(alive(pid), false, `child ${pid} still alive`);
  });

  test('a shard that dies is reported, the others are stopped, and the launcher exits non-zero', async () => {
    const cluster = await startCluster();
    const [shardPid, routerPid] = childPids(cluster.launcher.pid!);
    process.kill(shardPid!, 'SIGKILL');
    const code = await Promise.race([cluster.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))]);
    assert.equal(code, 1, cluster.output());
    assert.match(cluster.output(), /shard 0 exited unexpectedly/);
    assert.equal(alive(routerPid!), false);
  });
});
