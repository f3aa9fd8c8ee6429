// @module A free loopback port for tests that bind their own servers (the OS picks it; free again when returned).
import { once } from 'node:events';
import net from 'node:net';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
