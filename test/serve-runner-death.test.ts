// With the shard in the router process (`tessera serve`), a runner thread that dies ends every request in flight with
// one error event, and the process stops with exit code 1 for its supervisor to restart (the launcher's --shard-restarts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createLogger } from '@tessera/logging';
import { ensureGeneratedModel } from '@tessera/model-files';
import { parseRouterArgs } from '@tessera/router/config';
import { parseShardArgs } from '@tessera/shard/config';
import { startServing } from '../services/launcher/src/serve.ts';
import { TEST_CACHE } from './helpers/paths.ts';
import { postJson } from './helpers/sse.ts';

test('a runner thread that dies: the stream in flight ends with one error event, then the process stops with 1', async () => {
  const model = await ensureGeneratedModel(TEST_CACHE, 'tiny');
  const shardConfig = parseShardArgs(['--model-id', model, '--cache-dir', path.join(TEST_CACHE, 'graphs'), '--threads', '1'])!;
  const routerOptions = parseRouterArgs(['--model-id', model, '--shard-uris', 'in-process', '--port', '0', '--shutdown-timeout', '10']);
  const silent = createLogger({ service: 'test', level: 'silent' });
  const server = await startServing(shardConfig, routerOptions, { router: silent, shard: silent });
  try {
    const res = await postJson(`${server.router.url}/generate_stream`, { inputs: 'Once upon a time', parameters: { max_new_tokens: 2000 } });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The request is admitted and computing: the runner thread goes away as a crashed one would.
    void server.shard.client.close();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
    const events = text
      .split('\n\n')
      .filter((b) => b.startsWith('data:'))
      .map((b) => JSON.parse(b.slice(5)) as { token?: unknown; details?: unknown; generated_text?: string | null; error?: string; error_type?: string });
    const terminal = events.filter((e) => e.error !== undefined || (e.generated_text ?? null) !== null);
    assert.equal(terminal.length, 1, text.slice(-600));
    assert.equal(terminal[0]!.error_type, 'generation', JSON.stringify(terminal[0]));
    assert.equal(await server.stopped, 1);
  } finally {
    server.stop(0);
    await server.stopped;
  }
});
