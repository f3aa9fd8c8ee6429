// @module Test fixture: a tiny node:http server whose SSE replies are scripted byte-for-byte (for testing the benchmark client).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A script step: bytes to write as their own TCP write, or a pause in milliseconds. */
export type ScriptStep = string | Uint8Array | number;

export interface ScriptedRequest {
  method: string;
  url: string;
  body: Record<string, unknown>;
}

export type ScriptedHandler = (request: ScriptedRequest, res: http.ServerResponse) => Promise<void> | void;

export interface ScriptedServer {
  url: string;
  /** Every request received so far, in arrival order. */
  requests: ScriptedRequest[];
  /** Most requests that were being handled at the same moment. */
  readonly maxInFlight: number;
  /** Stops the server and drops open connections (idempotent). */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Plays a script on an SSE response: each string/bytes step is one write (Nagle off), each number a pause. */
export async function playScript(res: http.ServerResponse, steps: readonly ScriptStep[]): Promise<void> {
  res.socket?.setNoDelay(true);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  for (const step of steps) {
    if (typeof step === 'number') await sleep(step);
    else await new Promise<void>((resolve, reject) => res.write(step, (err) => (err ? reject(err) : resolve())));
  }
  res.end();
}

/** `data: <json>\n\n` for one SSE event. */
export const sseData = (payload: unknown): string => `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;

/** Starts the server on an ephemeral 127.0.0.1 port; the handler scripts each reply. */
export async function startScriptedServer(handler: ScriptedHandler): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer(async (req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const request: ScriptedRequest = { method: req.method ?? '', url: req.url ?? '', body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
      requests.push(request);
      await handler(request, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
      return closing;
    },
  };
}
