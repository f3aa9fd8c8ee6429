// @module Rendezvous of the tensor-parallel ranks at rank 0: hello, transport upgrade (Unix socket, shared memory), start signal.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { CollectiveError, ShardErrorCode } from '../errors.ts';
import { asJson, FrameKind } from './framing.ts';
import type { GroupOptions } from './group.ts';
import { createShmFiles, sharedMemoryDir, ShmLink } from './shm-link.ts';
import { connectOnce, Connection, type Link } from './transport.ts';

interface Hello {
  rank: number;
  worldSize: number;
  hostKey: string;
  /** Ranks on one thread (tests) must not poll each other synchronously: no shared memory between them. */
  pid?: number;
  threadId?: number;
}

/** Rank 0's start signal; `shm` offers a shared-memory link (the peer answers whether it could open it). */
interface Start {
  ready?: boolean;
  shm?: { toPeer: string; fromPeer: string; nonce: string };
}

/** Same kernel boot and same network namespace: a Unix socket path will reach the same listener. */
export function hostKey(): string {
  const read = (f: () => string) => {
    try {
      return f().trim();
    } catch {
      return '';
    }
  };
  return `${os.hostname()}|${read(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'))}|${read(() => fs.readlinkSync('/proc/self/ns/net'))}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Links to the other ranks: rank 0 gets one per rank (null at its own index), the others one to rank 0. */
export function rendezvous(opts: GroupOptions, rendezvousMs: number, timeoutMs: number): Promise<(Link | null)[]> {
  return opts.rank === 0 ? acceptPeers(opts, rendezvousMs, timeoutMs) : joinRoot(opts, rendezvousMs, timeoutMs);
}

function listen(server: net.Server, target: { host: string; port: number } | string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (typeof target === 'string') server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

/** Rank 0: listen on master addr/port (and a Unix socket), accept world-1 peers, then tell them to start. */
async function acceptPeers(opts: GroupOptions, rendezvousMs: number, timeoutMs: number): Promise<(Link | null)[]> {
  const N = opts.worldSize;
  const peers: (Connection | null)[] = new Array<Connection | null>(N).fill(null);
  /** Ranks that may use shared memory: same host and namespace, another process. */
  const sameHost = new Set<number>();
  const others = new Set<Connection>();
  const myKey = hostKey();
  const tcp = net.createServer();
  let uds: net.Server | null = null;
  let udsPath: string | null = null;
  try {
    await listen(tcp, { host: opts.masterAddr, port: opts.masterPort });
  } catch (err) {
    throw new CollectiveError(`rank 0 cannot listen on ${opts.masterAddr}:${opts.masterPort}: ${(err as Error).message}`);
  }
  if ((opts.transport ?? 'auto') === 'auto' && process.platform !== 'win32') {
    udsPath = path.join(os.tmpdir(), `tessera-tp-${opts.masterPort}-${randomBytes(4).toString('hex')}.sock`);
    uds = net.createServer();
    try {
      await listen(uds, udsPath);
    } catch {
      uds = null;
      udsPath = null;
    }
  }
  let complete!: () => void;
  let failed!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => ((complete = res), (failed = rej)));
  const register = (rank: number, conn: Connection, via: string, hello: Hello) => {
    conn.peer = `rank ${rank} over ${via}`;
    if (hello.hostKey === myKey && hello.pid !== undefined && (hello.pid !== process.pid || hello.threadId !== threadId)) sameHost.add(rank);
    peers[rank] = conn;
    others.delete(conn);
    if (peers.every((p, r) => r === 0 || p !== null)) complete();
  };
  const onSocket = (via: 'tcp' | 'uds') => async (socket: net.Socket) => {
    const conn = new Connection(socket, `a joining rank over ${via}`);
    others.add(conn);
    try {
      const hello = asJson<Hello>(await conn.recv(FrameKind.json, rendezvousMs, 'hello'));
      const bad =
        hello.worldSize !== N
          ? `world size ${hello.worldSize} does not match rank 0's ${N}`
          : !(Number.isInteger(hello.rank) && hello.rank >= 1 && hello.rank < N)
            ? `rank ${hello.rank} is not in 1..${N - 1}`
            : peers[hello.rank] !== null
              ? `rank ${hello.rank} joined twice`
              : null;
      if (bad) {
        conn.sendJson({ ok: false, error: bad });
        setTimeout(() => conn.close('rejected'), 100);
        return;
      }
      if (via === 'tcp' && udsPath !== null && hello.hostKey === myKey) {
        conn.sendJson({ ok: true, uds: udsPath });
        const answer = asJson<{ stay?: boolean }>(await conn.recv(FrameKind.json, rendezvousMs, 'transport choice'));
        if (answer.stay) register(hello.rank, conn, 'tcp', hello);
        else conn.close('replaced by a Unix socket');
        return;
      }
      conn.sendJson({ ok: true });
      register(hello.rank, conn, via === 'uds' ? `unix socket` : `tcp ${socket.remoteAddress}:${socket.remotePort}`, hello);
    } catch {
      conn.close('dropped during rendezvous');
    }
  };
  tcp.on('connection', onSocket('tcp'));
  uds?.on('connection', onSocket('uds'));
  const timer = setTimeout(() => {
    const missing = peers.map((p, r) => (r > 0 && p === null ? r : -1)).filter((r) => r > 0);
    failed(
      new CollectiveError(
        `rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${N} did not join within ${rendezvousMs / 1000} s (rank 0 listens on ${opts.masterAddr}:${opts.masterPort})`,
      ),
    );
  }, rendezvousMs);
  try {
    await done;
  } catch (err) {
    for (const c of [...peers, ...others]) c?.close('rendezvous failed');
    throw err;
  } finally {
    clearTimeout(timer);
    tcp.close();
    uds?.close();
    if (udsPath !== null) fs.rmSync(udsPath, { force: true });
  }
  return offerSharedMemory(opts, peers, sameHost, rendezvousMs, timeoutMs);
}

/** Sends every peer the start signal, offering shared-memory files to those on this host; returns the links. */
async function offerSharedMemory(
  opts: GroupOptions,
  peers: (Connection | null)[],
  sameHost: Set<number>,
  rendezvousMs: number,
  timeoutMs: number,
): Promise<(Link | null)[]> {
  const dir = (opts.transport ?? 'auto') === 'auto' && (opts.sharedMemory ?? process.env.TESSERA_COLLECTIVE_SHM !== '0') ? sharedMemoryDir() : null;
  const offers = new Map<number, NonNullable<Start['shm']>>();
  peers.forEach((conn, rank) => {
    if (conn === null) return;
    let shm: Start['shm'];
    if (dir !== null && sameHost.has(rank)) {
      try {
        shm = createShmFiles(dir, `${opts.masterPort}-r${rank}`);
        offers.set(rank, shm);
      } catch {
        shm = undefined; // /dev/shm full or read-only: stay on the socket
      }
    }
    conn.sendJson({ ready: true, ...(shm ? { shm } : {}) } satisfies Start);
  });
  const links: (Link | null)[] = [...peers];
  try {
    for (const [rank, files] of offers) {
      const conn = peers[rank]!;
      const answer = asJson<{ shm?: boolean }>(await conn.recv(FrameKind.json, rendezvousMs, 'shared-memory answer'));
      if (!answer.shm) continue;
      conn.peer = `${conn.peer.replace(' over ', ' over shared memory (+ ')})`;
      links[rank] = new ShmLink(conn, files.toPeer, files.fromPeer, files.nonce, timeoutMs);
    }
  } catch (err) {
    for (const c of peers) c?.close('rendezvous failed');
    throw err;
  } finally {
    // Both ends hold the files open: nothing is left in /dev/shm, whatever happens later.
    for (const files of offers.values()) for (const f of [files.toPeer, files.fromPeer]) fs.rmSync(f, { force: true });
  }
  return links;
}

/** Ranks ≥ 1: connect to rank 0 (retrying until it listens), say hello, maybe switch to its Unix socket, await start. */
async function joinRoot(opts: GroupOptions, rendezvousMs: number, timeoutMs: number): Promise<Link[]> {
  const deadline = Date.now() + rendezvousMs;
  const left = () => Math.max(1, deadline - Date.now());
  const where = `${opts.masterAddr}:${opts.masterPort}`;
  const hello: Hello = { rank: opts.rank, worldSize: opts.worldSize, hostKey: hostKey(), pid: process.pid, threadId };
  let socket: net.Socket | null = null;
  let lastError = '';
  while (socket === null) {
    try {
      socket = await connectOnce({ host: opts.masterAddr, port: opts.masterPort }, Math.min(5000, left()));
    } catch (err) {
      lastError = (err as Error).message;
      if (Date.now() >= deadline)
        throw new CollectiveError(`rank ${opts.rank} could not reach rank 0 at ${where} within ${rendezvousMs / 1000} s: ${lastError}`);
      await sleep(Math.min(200, left()));
    }
  }
  let conn = new Connection(socket, `rank 0 over tcp ${where}`);
  try {
    conn.sendJson(hello);
    const reply = asJson<{ ok: boolean; error?: string; uds?: string }>(await conn.recv(FrameKind.json, left(), 'rendezvous reply'));
    if (!reply.ok) throw new CollectiveError(`rank 0 refused rank ${opts.rank}: ${reply.error}`);
    if (reply.uds !== undefined) {
      let upgraded: Connection | null = null;
      try {
        upgraded = new Connection(await connectOnce(reply.uds, 5000), `rank 0 over unix socket`);
        upgraded.sendJson(hello);
        const ok = asJson<{ ok: boolean; error?: string }>(await upgraded.recv(FrameKind.json, 10_000, 'rendezvous reply'));
        if (!ok.ok) throw new CollectiveError(`rank 0 refused rank ${opts.rank}: ${ok.error}`);
      } catch {
        upgraded?.close('not usable');
        upgraded = null;
      }
      conn.sendJson({ stay: upgraded === null });
      if (upgraded !== null) {
        conn.close('replaced by a Unix socket');
        conn = upgraded;
      }
    }
    const start = asJson<Start>(
      await conn.recv(FrameKind.json, left(), 'start signal').catch((err: unknown) => {
        if (!(err instanceof CollectiveError && err.code === ShardErrorCode.CollectiveTimeout)) throw err;
        throw new CollectiveError(`rank ${opts.rank}: rank 0 (${where}) did not start the group within ${rendezvousMs / 1000} s (another rank missing?)`);
      }),
    );
    if (!start.ready) throw new CollectiveError('rank 0 sent an unexpected start message');
    if (start.shm === undefined) return [conn];
    let link: Link = conn;
    try {
      // Our outgoing file is rank 0's incoming one.
      link = new ShmLink(conn, start.shm.fromPeer, start.shm.toPeer, start.shm.nonce, timeoutMs);
      conn.peer = `${conn.peer.replace(' over ', ' over shared memory (+ ')})`;
    } catch {
      link = conn; // another /dev/shm (a container): stay on the socket
    }
    conn.sendJson({ shm: link !== conn });
    return [link];
  } catch (err) {
    conn.close('rendezvous failed');
    throw err;
  }
}
