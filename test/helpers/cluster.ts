// @module Starts a real Tessera (launcher → shard processes → router) on loopback for a test file.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports.ts';
import { REPO_ROOT, TEST_CACHE } from './paths.ts';

export interface Cluster {
  url: string;
  /** The launcher process. */
  launcher: ChildProcess;
  /** Resolves with the launcher's exit code once it exits. */
  exited: Promise<number | null>;
  /** Everything the launcher and its children printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `tessera launch` with the given flags on a free port; resolves once it prints that it is ready.
 * The port is free when picked but only bound seconds later (after the model loads), and on a busy
 * box an outgoing loopback connection can take it meanwhile (EADDRINUSE): then a fresh port is tried.
 */
export async function startCluster(flags: string[] = [], timeoutMs = 180_000): Promise<Cluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(flags, timeoutMs);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

/**
 * Several clusters started at once (their start-ups overlap: each spends part of it waiting); if one
 * fails, the others are stopped before the error is thrown.
 */
export async function startClusters<T extends string[][]>(...flagSets: T): Promise<{ [K in keyof T]: Cluster }> {
  const settled = await Promise.allSettled(flagSets.map((flags) => startCluster(flags)));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed === undefined) return settled.map((s) => (s as PromiseFulfilledResult<Cluster>).value) as { [K in keyof T]: Cluster };
  await Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
  throw failed.reason;
}

async function startClusterOnce(flags: string[], timeoutMs: number): Promise<Cluster> {
  const port = await freePort();
  const args = [path.join(REPO_ROOT, 'bin', 'tessera.js'), 'launch', '--port', String(port), '--cache-dir', TEST_CACHE, '--log-level', 'warn', ...flags];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cluster not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      if (out.includes('Tessera is ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`launcher exited before ready:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    launcher: child,
    exited,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
