// @module Waiting for services to come up: a shard's port accepting connections, the router's GET /health.
import net from 'node:net';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until `probe` resolves true, `abort` settles, or the deadline passes. */
async function pollUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, abort: Promise<unknown>): Promise<void> {
  let aborted = false;
  const stop = () => (aborted = true);
  void abort.then(stop, stop);
  const deadline = Date.now() + timeoutMs;
  while (!aborted) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(50);
  }
  throw new Error(`${what}: startup aborted`);
}

/**
 * A shard binds its gRPC port only once its model, graph and runner are ready (shard/src/main.ts), so
 * a port that accepts a connection is a ready shard. A plain TCP probe keeps gRPC and the protos out
 * of the launcher (~0.25 CPU-seconds of loading per launch); the router checks Health itself.
 */
export function waitForShard(address: string, timeoutMs: number, abort: Promise<unknown>): Promise<void> {
  const [, host = '', port = ''] = /^\[?(.*?)\]?:(\d+)$/.exec(address) ?? [];
  const probe = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port: Number(port) });
      socket.setTimeout(2000);
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.once('timeout', () => done(false));
    });
  return pollUntil(`shard ${address}`, probe, timeoutMs, abort);
}

export function waitForRouter(url: string, timeoutMs: number, abort: Promise<unknown>): Promise<void> {
  const probe = async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200;
  return pollUntil(`router ${url}`, probe, timeoutMs, abort);
}
