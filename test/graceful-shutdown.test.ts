// SIGTERM to `tessera launch`: in-flight streams complete, a new request gets 503, then the router and every shard stop and the launcher exits 0 (one shard in the router process, and as a process of its own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster } from './helpers/cluster.ts';
import { alive, serviceChildren } from './helpers/processes.ts';
import { postJson } from './helpers/sse.ts';

/** A streamed completion that cannot stop early (ignore_eos); resolves its chunks once it ends. */
async function longStream(url: string, tokens: number): Promise<{ done: Promise<string[]> }> {
  const res = await postJson(`${url}/v1/completions`, { model: 'm', prompt: 'Once upon a time', max_tokens: tokens, ignore_eos: true, stream: true });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let raw = decoder.decode((await reader.read()).value, { stream: true });
  const done = (async () => {
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      raw += decoder.decode(value, { stream: true });
    }
    return raw
      .split('\n\n')
      .map((b) => b.replace(/^data: /, ''))
      .filter((d) => d.length > 0);
  })();
  return { done };
}

// One shard runs inside the router process by default (`tessera serve`), or as its own process with --shard-process.
for (const mode of ['in the router process', 'as its own process'] as const) {
  test(`SIGTERM drains (shard ${mode}): running streams finish with every token, new requests get 503, every service process stops, the launcher exits 0`, async () => {
    const separate = mode === 'as its own process';
    const cluster = await startCluster(['--shutdown-timeout', '60', ...(separate ? ['--shard-process'] : [])]);
    try {
      const { shard, router, serve } = serviceChildren(cluster.launcher.pid!);
      assert.deepEqual([shard.length, router.length, serve.length], separate ? [1, 1, 0] : [0, 0, 1], cluster.output());
      const streams = await Promise.all([1, 2].map(() => longStream(cluster.url, 150)));
      cluster.launcher.kill('SIGTERM');
      // The launcher forwards SIGTERM to the router first; poll until the router refuses.
      let refused: Response | null = null;
      for (let i = 0; i < 200 && refused === null; i++) {
        const r = await postJson(`${cluster.url}/generate`, { inputs: 'Hi', parameters: { max_new_tokens: 2 } });
        if (r.status === 503) refused = r;
        else await new Promise((res) => setTimeout(res, 10));
      }
      assert.ok(refused !== null, 'a new request got 503 while draining');
      assert.match(((await refused.json()) as { error: string }).error, /shutting down/);
      for (const s of streams) {
        const chunks = await s.done;
        assert.equal(chunks.at(-1), '[DONE]');
        const finals = chunks.slice(0, -1).map((c) => JSON.parse(c) as { choices: { finish_reason: string | null }[] });
        assert.equal(finals.at(-1)!.choices[0]!.finish_reason, 'length', 'the stream ran to max_tokens');
        assert.ok(!chunks.some((c) => c.includes('"error"')), 'no error event');
      }
      assert.equal(await cluster.exited, 0, cluster.output());
      for (const pid of [...shard, ...router, ...serve]) assert.equal(alive(pid), false, `child ${pid} still alive`);
    } finally {
      await cluster.stop();
    }
  });
}
