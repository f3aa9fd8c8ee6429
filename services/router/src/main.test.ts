// @module Tests: start-up with real model files (stories260K) over a scripted shard; the CLI's ready line and SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parseRouterArgs } from './config.ts';
import { startRouter } from './main.ts';
import { startScriptedShard } from './testing/scripted-shard.ts';
import { postJson } from './testing/sse-client.ts';

const MODEL_DIR = fileURLToPath(new URL('../../../../shared/models/stories260K/hf', import.meta.url));
const haveModel = existsSync(MODEL_DIR);

test('startRouter loads the tokenizer and chat template from a real model directory', async (t) => {
  if (!haveModel) return t.skip('stories260K not found: ../shared not present');
  const shard = await startScriptedShard({ vocabSize: 512 });
  const router = await startRouter(parseRouterArgs(['--model-id', MODEL_DIR, '--shard-uris', shard.uri, '--port', '0']), pino({ level: 'silent' }));
  try {
    const tokens = await postJson(`${router.url}/tokenize`, { inputs: 'Once upon a time' });
    assert.deepEqual(
      tokens.body.map((x: { id: number }) => x.id),
      [1, 403, 407, 261, 378],
    );
    const chat = await postJson(`${router.url}/v1/chat/completions`, {
      model: 'm',
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 2,
      temperature: 0,
    });
    assert.equal(chat.status, 200);
    assert.equal(chat.body.model, 'hf');
    assert.equal(chat.body.usage.prompt_tokens, 5, 'the template adds BOS once');
    const gen = await postJson(`${router.url}/generate`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 2, details: true } });
    assert.deepEqual(
      gen.body.details.tokens.map((x: { id: number }) => x.id),
      [379, 380],
    );
  } finally {
    await router.close();
    await shard.close();
  }
});

test('`tessera router` CLI: logs a ready line with the bound port (--port 0), serves, exits 0 on SIGTERM', async (t) => {
  if (!haveModel) return t.skip('stories260K not found: ../shared not present');
  const shard = await startScriptedShard({ vocabSize: 512 });
  const entry = fileURLToPath(new URL('./main.ts', import.meta.url));
  const args = JSON.stringify(['--model-id', MODEL_DIR, '--shard-uris', shard.uri, '--port', '0']);
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(entry)}).then((m) => m.main(${args}))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        for (const line of out.split('\n')) {
          if (!line.includes('router ready')) continue;
          resolve((JSON.parse(line) as { port: number }).port);
        }
      });
      child.once('exit', (code) => reject(new Error(`router exited early (${code}): ${out}`)));
    });
    assert.ok(port > 0);
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await shard.close();
  }
});
