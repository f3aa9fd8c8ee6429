// @module A free loopback port for tests that bind their own servers.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * A port that is free now, below the OS's ephemeral range. test/run.mjs runs several test processes at
 * once, beside launchers that take ports the way the OS hands them out (listen on 0, from the
 * ephemeral range: 32768–60999 on Linux). A port found that way and released before the server under
 * test binds it can be handed to someone else meanwhile, and was: a shard restarted on its old port
 * found a launcher's router there. Below the range only another test's pick can collide, and a random
 * start over ~20 000 ports makes that rare.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(1024, high - 20_000);
  if (high - low < 1000) return osPort(host);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port, host)) return port;
  }
  return osPort(host);
}

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 32768;
  } catch {
    return 32768; // not Linux: IANA's dynamic range starts at 49152, so this stays below it too
  }
}

async function canListen(port: number, host: string): Promise<boolean> {
  const server = net.createServer();
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch {
    return false;
  }
  await new Promise((resolve) => server.close(resolve));
  return true;
}

async function osPort(host: string): Promise<number> {
  const server = net.createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
