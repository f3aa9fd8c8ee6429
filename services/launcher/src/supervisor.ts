// @module Child-process supervision: spawn services, restart or report a death, stop them all in order.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const TESSERA_BIN = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));

export interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  /** stopAll stops higher stages first and the children of one stage together. */
  stage: number;
}

/** Decides, when a child dies unexpectedly, whether it is started again (true) or its death ends the run. */
export type RestartPolicy = (name: string, why: string) => boolean;

export class Supervisor {
  readonly #children: Child[] = [];
  #stopping = false;
  /** Resolves with a description of the first child that died while we were not stopping. */
  readonly firstDeath: Promise<string>;
  #reportDeath!: (what: string) => void;
  #restartPolicy: RestartPolicy = () => false;

  constructor() {
    this.firstDeath = new Promise((resolve) => (this.#reportDeath = resolve));
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** From now on a child that dies is started again with the same arguments when `policy` says so. */
  restartWith(policy: RestartPolicy): void {
    this.#restartPolicy = policy;
  }

  /** Starts `tessera <args…>` as a child sharing our stdout/stderr; `stage`: see stopAll. */
  start(name: string, args: string[], env: NodeJS.ProcessEnv = process.env, stage = 0): Child {
    // TESSERA_SUPERVISOR_PID lets the child notice that we died without stopping it (see cli.ts).
    const proc = spawn(process.execPath, [TESSERA_BIN, ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...env, TESSERA_SUPERVISOR_PID: String(process.pid) },
    });
    const exited = new Promise<number | null>((resolve) => {
      proc.on('exit', (code, signal) => {
        const why = `${name} exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`;
        if (!this.#stopping) {
          if (this.#restartPolicy(name, why)) {
            this.#children.splice(this.#children.indexOf(child), 1);
            this.start(name, args, env, stage);
          } else this.#reportDeath(why);
        }
        resolve(code);
      });
      proc.on('error', (err) => {
        if (!this.#stopping) this.#reportDeath(`${name} could not start: ${err.message}`);
        resolve(null);
      });
    });
    const child = { name, process: proc, exited, stage };
    this.#children.push(child);
    return child;
  }

  /**
   * SIGTERM to every child, highest stage first (the router drains before the shards stop), the
   * children of one stage at once: tensor-parallel peers stopped one by one would each see their
   * group break and start re-forming it. SIGKILL after `graceMs`.
   */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    const stages = [...new Set(this.#children.map((c) => c.stage))].sort((a, b) => b - a);
    for (const stage of stages) {
      await Promise.all(this.#children.filter((c) => c.stage === stage).map((c) => stopChild(c, graceMs)));
    }
  }
}

async function stopChild(child: Child, graceMs: number): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}
