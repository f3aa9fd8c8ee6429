// Killing one tensor-parallel shard mid-stream: every stream ends with an error event within 5 s and /health turns 503.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ensureGeneratedModel } from '@tessera/model-files';
import { freePort } from './helpers/ports.ts';
import { waitForShard } from '../services/launcher/src/readiness.ts';
import { TEST_CACHE } from './helpers/paths.ts';
import { startService, waitUntil, type Service } from './helpers/services.ts';

const services: Service[] = [];
after(async () => {
  for (const s of services.reverse()) await s.stop(2000);
});

/** Reads SSE `data:` payloads as they arrive; resolves with all of them when the stream ends. */
function streamEvents(res: Response, onEvent: (data: string) => void): Promise<string[]> {
  const events: string[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  return (async () => {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (data) {
          events.push(data);
          onEvent(data);
        }
      }
    }
    return events;
  })();
}

test('a tensor-parallel shard killed mid-stream: streams end with an error event within 5 s, /health turns 503', async () => {
  const model = await ensureGeneratedModel(TEST_CACHE, 'tp4');
  const masterPort = await freePort();
  const ports = [await freePort(), await freePort()];
  for (const rank of [0, 1]) {
    services.push(
      startService(`shard ${rank}`, [
        'shard',
        '--model-id',
        model,
        '--port',
        String(ports[rank]),
        '--rank',
        String(rank),
        '--world-size',
        '2',
        '--master-addr',
        '127.0.0.1',
        '--master-port',
        String(masterPort),
        '--threads',
        '1',
        '--cache-dir',
        path.join(TEST_CACHE, 'graphs'),
        '--log-level',
        'warn',
      ]),
    );
  }
  const never = new Promise<void>(() => {});
  await Promise.all(ports.map((p) => waitForShard(`127.0.0.1:${p}`, 120_000, never)));
  const routerPort = await freePort();
  const url = `http://127.0.0.1:${routerPort}`;
  services.push(
    startService('router', [
      'router',
      '--model-id',
      model,
      '--shard-uris',
      ports.map((p) => `127.0.0.1:${p}`).join(','),
      '--port',
      String(routerPort),
      '--log-level',
      'warn',
    ]),
  );
  await waitUntil('router /health', async () => (await fetch(`${url}/health`)).status === 200, 60_000, services);

  let started = 0;
  let firstEvents!: () => void;
  const allStarted = new Promise<void>((r) => (firstEvents = r));
  const streams = await Promise.all(
    ['Once upon a time', 'A second stream', 'and a third'].map(async (inputs) => {
      const res = await fetch(`${url}/generate_stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs, parameters: { max_new_tokens: 1900 } }),
      });
      assert.equal(res.status, 200);
      let seen = 0;
      // Wrapped: an async function returning the promise itself would wait for the stream's end.
      return {
        done: streamEvents(res, () => {
          if (++seen === 3 && ++started === 3) firstEvents();
        }),
      };
    }),
  );
  await allStarted;
  services[1]!.process.kill('SIGKILL');
  const killedAt = Date.now();
  const ended = await Promise.all(streams.map((s) => s.done.then((events) => ({ events, at: Date.now() }))));
  for (const { events, at } of ended) {
    assert.ok(at - killedAt < 5000, `stream ended ${at - killedAt} ms after the kill`);
    const last = JSON.parse(events.at(-1)!) as { error?: string; error_type?: string; token?: unknown };
    assert.ok(last.error !== undefined, `last event is an error: ${events.at(-1)}`);
    assert.ok(events.length < 1900, 'the stream did not finish normally');
  }
  await waitUntil('router /health 503', async () => (await fetch(`${url}/health`)).status === 503, 5000, [services[2]!]);
  // The surviving rank reports its broken group, so it is unhealthy too (a restart is needed).
  assert.match(ended[0]!.events.at(-1)!, /rank 1|closed|unavailable|shard/i);
});
