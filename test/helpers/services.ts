// @module Starts single Tessera services (`tessera shard`, `tessera router`) as child processes, optionally in a network namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './paths.ts';

export interface Service {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * `tessera <args…>`; with `netns`, through `ip netns exec NS` (then the process is ours too: killing
 * the `ip` wrapper's child is the same PID, since `ip netns exec` execs the command).
 */
export function startService(name: string, args: string[], opts: { netns?: string } = {}): Service {
  const node = [process.execPath, path.join(REPO_ROOT, 'bin', 'tessera.js'), ...args];
  const [cmd, ...argv] = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...node] : node;
  const child = spawn(cmd!, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    process: child,
    exited,
    output: () => out,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once `probe` is true; rejects (with every service's output) after `timeoutMs` or when one exits. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, services: Service[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    const dead = services.find((s) => s.process.exitCode !== null || s.process.signalCode !== null);
    if (dead || Date.now() > deadline) {
      const logs = services.map((s) => `--- ${s.name}\n${s.output()}`).join('\n');
      throw new Error(`${what}: ${dead ? `${dead.name} exited` : `not ready after ${timeoutMs} ms`}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
