// @module The graph cache's builder hash: a copy of the sources hashes the same; editing builder code changes the cache key.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomLlamaModel } from '@tessera/testing';
import { BUILDER_SOURCES, graphBuilderHash, hashSources, type SourceSet } from './builder-hash.ts';
import { graphCacheKey } from './graph-cache.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-builder-hash-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The builder sources copied (top-level files only, as hashed) into folders of their own. */
function copySources(): SourceSet[] {
  return BUILDER_SOURCES.map((set, i) => {
    const dir = path.join(tmp, `copy-${Date.now()}-${i}`);
    fs.mkdirSync(dir);
    for (const e of fs.readdirSync(set.dir, { withFileTypes: true })) if (e.isFile()) fs.copyFileSync(path.join(set.dir, e.name), path.join(dir, e.name));
    return { ...set, dir };
  });
}

test('the hash covers the graph builders, the weight slicing and the model readers, and is stable', () => {
  assert.match(graphBuilderHash(), /^[0-9a-f]{16}$/);
  assert.equal(graphBuilderHash(), hashSources(BUILDER_SOURCES));
  const names = BUILDER_SOURCES.map((s) => fs.readdirSync(s.dir));
  assert.ok(names[0]!.includes('llama.ts') && names[1]!.includes('shard-weights.ts') && names[2]!.includes('gguf-model.ts'));
  assert.equal(hashSources(copySources()), graphBuilderHash(), 'a copy of the same code hashes the same wherever it lies');
});

test('editing builder code (graph, weights or a model reader) changes the graph cache key; tests and tokenizers do not', () => {
  const model = randomLlamaModel({ numLayers: 1 });
  const opts = { rank: 0, worldSize: 1 };
  const before = graphCacheKey(model, opts, graphBuilderHash());
  for (const [set, file] of [[0, 'llama.ts'], [1, 'shard-weights.ts'], [2, 'qk-permute.ts']] as const) {
    const copy = copySources();
    fs.appendFileSync(path.join(copy[set]!.dir, file), '\n// changed\n');
    assert.notDeepEqual(graphCacheKey(model, opts, hashSources(copy)), before, `${file} edited`);
  }
  const copy = copySources();
  fs.writeFileSync(path.join(copy[0]!.dir, 'new-thing.test.ts'), 'test');
  fs.appendFileSync(path.join(copy[2]!.dir, 'gguf-tokenizer.ts'), '\n// changed\n');
  assert.deepEqual(graphCacheKey(model, opts, hashSources(copy)), before);
});
