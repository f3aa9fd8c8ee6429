// stories260K served with --speculate 4 gives the same greedy tokens as without (one request at a time,
// several at once, over 2 tensor-parallel shards), accepts drafts on repetitive text (the Prometheus counters), and reports the flag in /info.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startCluster, startClusters, type Cluster } from './helpers/cluster.ts';
import { SKIP_NO_SHARED, sharedPath } from './helpers/paths.ts';
import { generateGreedy } from './helpers/streams.ts';

const modelDir = sharedPath('models', 'stories260K');
const PROMPTS = [
  'Once upon a time',
  'The little dog',
  // Repetitive: prompt lookup finds the continuation in the prompt itself.
  'Lily said: I like the red ball. I like the red ball. I like the red ball. I like the red ball. I like',
  'Tom and his mom went to the park. Tom and his mom went to the park. Tom and his mom',
];
const MAX_NEW = 64;

/** A counter's value in the router's Prometheus text. */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  if (line === undefined) throw new Error(`${name} not in /metrics`);
  return Number(line.split(' ').at(-1));
}

describe('speculative decoding on stories260K', { skip: modelDir ? false : SKIP_NO_SHARED }, () => {
  let plain: Cluster;
  let spec: Cluster;
  before(async () => {
    const model = ['--model-id', path.join(modelDir!, 'stories260K.gguf')];
    [plain, spec] = await startClusters(model, [...model, '--speculate', '4']);
  });
  after(async () => {
    await Promise.all([plain?.stop(), spec?.stop()]);
  });

  test('/info reports the flag', async () => {
    const info = (await (await fetch(`${spec.url}/info`)).json()) as { speculate: number };
    assert.equal(info.speculate, 4);
    assert.equal(((await (await fetch(`${plain.url}/info`)).json()) as { speculate: number }).speculate, 0);
  });

  test('greedy tokens are the same with and without drafts, and repetitive prompts accept drafts', async (t) => {
    for (const prompt of PROMPTS) {
      const [a, b] = [await generateGreedy(plain.url, prompt, MAX_NEW), await generateGreedy(spec.url, prompt, MAX_NEW)];
      assert.deepEqual(b, a, prompt);
    }
    const proposed = await counter(spec.url, 'tessera_speculative_proposed_tokens_total');
    const accepted = await counter(spec.url, 'tessera_speculative_accepted_tokens_total');
    t.diagnostic(`accepted ${accepted} of ${proposed} draft tokens`);
    assert.ok(accepted > 0 && accepted <= proposed, `accepted ${accepted} of ${proposed} draft tokens`);
    assert.equal(await counter(plain.url, 'tessera_speculative_proposed_tokens_total'), 0);
  });

  test('several requests in one batch (different draft lengths per step) keep their greedy tokens', async () => {
    const expected = await Promise.all(PROMPTS.map((p) => generateGreedy(plain.url, p, MAX_NEW)));
    const got = await Promise.all(PROMPTS.map((p) => generateGreedy(spec.url, p, MAX_NEW)));
    assert.deepEqual(got, expected);
  });

  test('stop sequences and a seeded sampled request behave with drafts', async () => {
    const prompt = PROMPTS[2]!;
    const stopped = await generateGreedy(spec.url, prompt, MAX_NEW, { stop: ['ball'] });
    assert.deepEqual(stopped, await generateGreedy(plain.url, prompt, MAX_NEW, { stop: ['ball'] }));
    const sampled = { do_sample: true, temperature: 0.7, top_k: 20, seed: 1234 };
    assert.deepEqual(
      await generateGreedy(spec.url, prompt, MAX_NEW, sampled),
      await generateGreedy(spec.url, prompt, MAX_NEW, sampled),
      'seeded: reproducible',
    );
  });

  test('tensor parallel (2 shards): rank 0 broadcasts the accepted runs, greedy tokens unchanged', async () => {
    const tp = await startCluster(['--model-id', path.join(modelDir!, 'stories260K.gguf'), '--num-shard', '2', '--speculate', '4']);
    try {
      for (const prompt of PROMPTS.slice(2))
        assert.deepEqual(await generateGreedy(tp.url, prompt, MAX_NEW), await generateGreedy(plain.url, prompt, MAX_NEW), prompt);
      assert.ok((await counter(tp.url, 'tessera_speculative_accepted_tokens_total')) > 0);
    } finally {
      await tp.stop();
    }
  });
});
