// Batch invariance on the real stories260K model: a greedy request's tokens are the same alone and among 31 other concurrent requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { SKIP_NO_SHARED, sharedPath } from './helpers/paths.ts';
import { generateGreedy } from './helpers/streams.ts';

const modelDir = sharedPath('models', 'stories260K');
const OPENINGS = ['Once upon a time', 'The little dog', 'One day, a girl named Lily', 'Tom and his mom', 'In the park', 'The sun was', 'A big bird', 'Sam wanted to'];

describe('stories260K batch invariance', { skip: modelDir ? false : SKIP_NO_SHARED }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(['--model-id', path.join(modelDir!, 'stories260K.gguf'), '--max-batch-prefill-tokens', '256']);
  });
  after(() => cluster?.stop());

  test('the same greedy tokens alone and among 31 other concurrent, different requests', async () => {
    const target = 'Once upon a time, there was a little girl who';
    const alone = await generateGreedy(cluster.url, target, 48);
    const others = Array.from({ length: 31 }, (_, i) =>
      generateGreedy(cluster.url, `${OPENINGS[i % OPENINGS.length]}${' and'.repeat(i % 5)}`, 10 + ((i * 7) % 40)),
    );
    const [mine, ...rest] = await Promise.all([generateGreedy(cluster.url, target, 48), ...others]);
    assert.deepEqual(mine!.ids, alone.ids);
    assert.equal(mine!.text, alone.text);
    // The others are each also what they give alone.
    for (let i = 0; i < 3; i++) {
      const solo = await generateGreedy(cluster.url, `${OPENINGS[i % OPENINGS.length]}${' and'.repeat(i % 5)}`, 10 + ((i * 7) % 40));
      assert.deepEqual(rest[i]!.ids, solo.ids);
    }
  });
});
