// @module Tests: the router listens while warming up (503 "warming up", /live 200), then /health 200; probes' shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { pino } from 'pino';
import { syntheticSentencePieceFiles } from '@tessera/testing';
import { parseRouterArgs } from '../config.ts';
import { startRouter } from '../main.ts';
import { startScriptedShard } from '../testing/scripted-shard.ts';
import { postJson } from '../testing/sse-client.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function eventually<T>(probe: () => Promise<T | null>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('while the shards warm up the router already answers: /health 503 "warming up", /live 200, generate 503', async () => {
  const shard = await startScriptedShard({ vocabSize: 305, warmupDelayMs: 1500 });
  const port = await freePort();
  const opts = parseRouterArgs(['--model-id', 'synthetic', '--shard-uris', shard.uri, '--port', String(port)]);
  const starting = startRouter(opts, pino({ level: 'silent' }), {
    tokenizer: { ...syntheticSentencePieceFiles(), chatTemplate: '' },
    generation: {},
    eosTokenIds: [2],
  });
  try {
    const health = await eventually(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      return r.status === 503 ? r : null;
    });
    assert.deepEqual(await health.json(), { error: 'warming up', error_type: 'unhealthy' });
    const live = await fetch(`http://127.0.0.1:${port}/live`);
    assert.equal(live.status, 200);
    const gen = await postJson(`http://127.0.0.1:${port}/generate`, { inputs: 'a' });
    assert.equal(gen.status, 503);
    assert.match(gen.body.error, /warming up/);
    const chat = await postJson(`http://127.0.0.1:${port}/v1/completions`, { model: 'm', prompt: 'a' });
    assert.equal(chat.status, 503);
    assert.equal(chat.body.error.type, 'server_error', 'OpenAI error shape under /v1');
    const status = await (await fetch(`http://127.0.0.1:${port}/status`)).json();
    assert.equal(status.phase, 'warming up');
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200);
    const router = await starting;
    try {
      assert.equal((await fetch(`${router.url}/health`)).status, 200);
      assert.equal((await fetch(`${router.url}/live`)).status, 200);
      assert.equal((await postJson(`${router.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 } })).body.generated_text, 'bc');
    } finally {
      await router.close();
    }
  } finally {
    await starting.catch(() => undefined);
    await shard.close();
  }
});

test('a start-up failure after listening closes the port and rejects', async () => {
  const port = await freePort();
  // A shard that reports the wrong world size fails start-up right after connecting.
  const shard = await startScriptedShard({ vocabSize: 305, worldSize: 2 });
  const opts = parseRouterArgs(['--model-id', 'synthetic', '--shard-uris', shard.uri, '--port', String(port)]);
  try {
    await assert.rejects(
      startRouter(opts, pino({ level: 'silent' }), { tokenizer: { ...syntheticSentencePieceFiles(), chatTemplate: '' }, generation: {}, eosTokenIds: [2] }),
      /world|rank/,
    );
    await assert.rejects(fetch(`http://127.0.0.1:${port}/live`), 'the port is closed again');
  } finally {
    await shard.close();
  }
});
