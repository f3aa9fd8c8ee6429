// @module The process group of the tensor-parallel shards: collectives over the links the rendezvous made, failing fast.
import { CollectiveError } from '../errors.ts';
import { allReduceSum, broadcastInt32, gatherToRoot, type StarLinks } from './all-reduce.ts';
import { rendezvous } from './rendezvous.ts';

export interface GroupOptions {
  rank: number;
  worldSize: number;
  /** Where rank 0 listens (TCP) and the others connect. */
  masterAddr: string;
  masterPort: number;
  /** 'auto' (default): ranks on the same host and network namespace switch to a Unix socket; 'tcp': never. */
  transport?: 'auto' | 'tcp';
  /**
   * With 'auto', ranks in different processes on the same host exchange frames through files in
   * /dev/shm, polled (default true unless env TESSERA_COLLECTIVE_SHM=0; the socket stays for liveness).
   */
  sharedMemory?: boolean;
  /** How long the ranks wait for each other at start (default 600 s: other ranks may still be building graphs). */
  rendezvousTimeoutMs?: number;
  /** How long one collective waits for a peer (default 60 s; a dead peer is noticed at once). */
  timeoutMs?: number;
}

/** Time spent inside collectives since start (for the compute / communication split). */
export interface CollectiveStats {
  allReduceCount: number;
  allReduceNs: number;
  gatherNs: number;
  broadcastNs: number;
}

export class ProcessGroup {
  readonly stats: CollectiveStats = { allReduceCount: 0, allReduceNs: 0, gatherNs: 0, broadcastNs: 0 };
  #broken: Error | null = null;
  readonly #onBroken: ((err: Error) => void)[] = [];

  private constructor(
    readonly links: StarLinks,
    readonly transports: string[],
  ) {
    for (const c of [...links.peers, links.root]) c?.onClose((err) => this.#break(err));
  }

  get rank(): number {
    return this.links.rank;
  }
  get worldSize(): number {
    return this.links.worldSize;
  }
  /** The first failure; every later collective rejects with it (the shard must be restarted). */
  get broken(): Error | null {
    return this.#broken;
  }

  /** World size 1: every collective is the identity. */
  static single(): ProcessGroup {
    return new ProcessGroup({ rank: 0, worldSize: 1, peers: [null], root: null, timeoutMs: 0 }, []);
  }

  static async create(opts: GroupOptions): Promise<ProcessGroup> {
    if (opts.worldSize === 1) return ProcessGroup.single();
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const rendezvousMs = opts.rendezvousTimeoutMs ?? 600_000;
    const links = await rendezvous(opts, rendezvousMs, timeoutMs);
    const conns = opts.rank === 0 ? links.slice(1) : links;
    const star: StarLinks = {
      rank: opts.rank,
      worldSize: opts.worldSize,
      peers: opts.rank === 0 ? links : [],
      root: opts.rank === 0 ? null : links[0]!,
      timeoutMs,
    };
    return new ProcessGroup(
      star,
      conns.map((c) => c!.peer),
    );
  }

  /** Called once, when the group fails (not when it is closed on shutdown). */
  onBroken(listener: (err: Error) => void): void {
    this.#onBroken.push(listener);
  }

  #break(err: Error): void {
    if (this.#broken) return;
    this.#broken = err;
    for (const l of this.#onBroken.splice(0)) l(err);
    // Close every link so the other ranks fail now instead of at their timeout.
    for (const c of [...this.links.peers, this.links.root]) c?.close('closed after a collective failure');
  }

  async #run<T>(op: () => Promise<T>, stat: 'allReduceNs' | 'gatherNs' | 'broadcastNs'): Promise<T> {
    if (this.#broken) throw this.#broken;
    const t0 = process.hrtime.bigint();
    try {
      return await op();
    } catch (err) {
      const e = err instanceof CollectiveError ? err : new CollectiveError((err as Error).message);
      this.#break(e);
      throw e;
    } finally {
      this.stats[stat] += Number(process.hrtime.bigint() - t0);
    }
  }

  allReduceSum(data: Float32Array): Promise<Float32Array> {
    if (this.worldSize === 1) return Promise.resolve(data);
    this.stats.allReduceCount++;
    return this.#run(() => allReduceSum(this.links, data), 'allReduceNs');
  }
  broadcastInt32(values: Int32Array | null): Promise<Int32Array> {
    if (this.worldSize === 1) return Promise.resolve(values!);
    return this.#run(() => broadcastInt32(this.links, values), 'broadcastNs');
  }
  gatherToRoot(part: Float32Array): Promise<Float32Array[] | null> {
    if (this.worldSize === 1) return Promise.resolve([part]);
    return this.#run(() => gatherToRoot(this.links, part), 'gatherNs');
  }

  close(): void {
    this.#onBroken.length = 0;
    this.#broken ??= new CollectiveError('process group closed');
    for (const c of [...this.links.peers, this.links.root]) c?.close('closed by shutdown', true);
  }
}
