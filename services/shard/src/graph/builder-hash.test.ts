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

let copies = 0;
/** The builder sources copied, subfolders included, into folders of their own. */
function copySources(): SourceSet[] {
  copies++;
  return BUILDER_SOURCES.map((set, i) => {
    const dir = path.join(tmp, `copy-${copies}-${i}`);
    fs.cpSync(set.dir, dir, { recursive: true });
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
  for (const [set, file] of [
    [0, 'llama.ts'],
    [1, 'shard-weights.ts'],
    [2, 'qk-permute.ts'],
  ] as const) {
    const copy = copySources();
    fs.appendFileSync(path.join(copy[set]!.dir, file), '\n// changed\n');
    assert.notDeepEqual(graphCacheKey(model, opts, hashSources(copy)), before, `${file} edited`);
  }
  const copy = copySources();
  fs.writeFileSync(path.join(copy[0]!.dir, 'new-thing.test.ts'), 'test');
  fs.appendFileSync(path.join(copy[2]!.dir, 'gguf-tokenizer.ts'), '\n// changed\n');
  assert.deepEqual(graphCacheKey(model, opts, hashSources(copy)), before);
});

test('code in subfolders counts, and so does a compiled build (.js); type declarations and generated test models do not', () => {
  const copy = copySources();
  const before = hashSources(copy);
  fs.mkdirSync(path.join(copy[0]!.dir, 'families'), { recursive: true });
  fs.writeFileSync(path.join(copy[0]!.dir, 'families', 'extra.d.ts'), 'export {};');
  fs.mkdirSync(path.join(copy[2]!.dir, 'generated'), { recursive: true });
  fs.writeFileSync(path.join(copy[2]!.dir, 'generated', 'new-preset.ts'), 'export {};');
  assert.equal(hashSources(copy), before);
  fs.writeFileSync(path.join(copy[0]!.dir, 'families', 'new-family.ts'), 'export {};');
  const withFamily = hashSources(copy);
  assert.notEqual(withFamily, before);
  fs.writeFileSync(path.join(copy[1]!.dir, 'compiled.js'), 'export {};');
  assert.notEqual(hashSources(copy), withFamily);
});
