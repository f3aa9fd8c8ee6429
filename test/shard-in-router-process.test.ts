// One shard runs inside the router process (`tessera launch`'s default: a `tessera serve` child); it answers exactly as a
// router and a shard process do (`--shard-process`): greedy tokens, logprobs, top-n, streams through the official openai
// client, concurrent streams; it counts its forward passes in /metrics, and stops on SIGTERM.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { alive, serviceChildren } from './helpers/processes.ts';

interface Details {
  generated_text: string;
  details: { finish_reason: string; tokens: { id: number; logprob: number }[]; top_tokens: { id: number; logprob: number }[][] };
}

async function generate(url: string, inputs: string): Promise<Details> {
  const res = await fetch(`${url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs, parameters: { max_new_tokens: 24, details: true, top_n_tokens: 3, decoder_input_details: false } }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Details;
}

describe('the router with its shard in one process', () => {
  let inProcess: Cluster;
  let separate: Cluster;
  before(async () => {
    [inProcess, separate] = await Promise.all([startCluster([]), startCluster(['--shard-process'])]);
  });
  after(async () => {
    await inProcess?.stop();
    await separate?.stop();
  });

  test('by default the launcher runs one `tessera serve` child; with --shard-process a router and a shard process', () => {
    const children = serviceChildren(inProcess.launcher.pid!);
    assert.deepEqual([children.serve.length, children.shard.length, children.router.length], [1, 0, 0], inProcess.output());
    assert.match(inProcess.output(), /its shard in the router process/);
    const other = serviceChildren(separate.launcher.pid!);
    assert.deepEqual([other.serve.length, other.shard.length, other.router.length], [0, 1, 1], separate.output());
  });

  test('greedy generations equal those of a router and a shard process: tokens, logprobs and top-n', async () => {
    for (const prompt of ['Once upon a time', 'The quick brown fox jumps over', 'Hello']) {
      const [a, b] = await Promise.all([generate(inProcess.url, prompt), generate(separate.url, prompt)]);
      assert.equal(a.generated_text, b.generated_text, prompt);
      assert.deepEqual(
        a.details.tokens.map((t) => t.id),
        b.details.tokens.map((t) => t.id),
      );
      a.details.tokens.forEach((t, i) => assert.ok(Math.abs(t.logprob - b.details.tokens[i]!.logprob) < 1e-5, `${prompt}: token ${i}`));
      assert.deepEqual(
        a.details.top_tokens.map((top) => top.map((t) => t.id)),
        b.details.top_tokens.map((top) => top.map((t) => t.id)),
      );
    }
  });

  test('the openai client: a stream has the non-streamed text, and 12 concurrent streams each end once with their own text', async () => {
    const client = new OpenAI({ baseURL: `${inProcess.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const reference = new OpenAI({ baseURL: `${separate.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const params = (i: number) => ({ model: 'tgi', prompt: `Story number ${i}:`, max_tokens: 6 + i, temperature: 0 });
    const streamed = async (i: number) => {
      let text = '';
      let finishes = 0;
      for await (const chunk of await client.completions.create({ ...params(i), stream: true })) {
        text += chunk.choices[0]?.text ?? '';
        if (chunk.choices[0]?.finish_reason) finishes++;
      }
      return { text, finishes };
    };
    const [runs, expected] = await Promise.all([
      Promise.all(Array.from({ length: 12 }, (_, i) => streamed(i))),
      Promise.all(Array.from({ length: 12 }, (_, i) => reference.completions.create(params(i)))),
    ]);
    runs.forEach((r, i) => {
      assert.equal(r.finishes, 1, `stream ${i}`);
      assert.equal(r.text, expected[i]!.choices[0]!.text, `stream ${i}`);
    });
  });

  test('/metrics counts the in-process shard’s forward passes', async () => {
    const body = await (await fetch(`${inProcess.url}/metrics`)).text();
    const count = body.match(/^tessera_shard_forward_duration_seconds_count\{[^}]*method="decode"[^}]*\} (\d+)/m);
    assert.ok(count !== null && Number(count[1]) > 0, body.slice(0, 2000));
  });

  test('SIGTERM stops the process and the launcher exits 0', async () => {
    const [servePid] = serviceChildren(inProcess.launcher.pid!).serve;
    inProcess.launcher.kill('SIGTERM');
    assert.equal(await inProcess.exited, 0, inProcess.output());
    const deadline = Date.now() + 10_000;
    while (alive(servePid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(servePid!), false, 'the serve process is gone');
  });
});
