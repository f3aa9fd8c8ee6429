// @module The launcher's service children, and whether a process is alive (supervision tests).
import { execFileSync } from 'node:child_process';

/** The launcher's service children by role (tsx may also run an esbuild helper process under it). */
export function serviceChildren(pid: number): { shard: number[]; router: number[]; serve: number[] } {
  let lines: string[] = [];
  try {
    lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n');
  } catch {
    // ps exits 1 when there are no children
  }
  const of = (role: string) => lines.filter((l) => l.includes(`tessera.js ${role} `)).map((l) => Number(l.trim().split(/\s+/)[0]));
  return { shard: of('shard'), router: of('router'), serve: of('serve') };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
