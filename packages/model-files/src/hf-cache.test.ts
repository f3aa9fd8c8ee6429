// Tests: org/name[@revision] resolved from a Hugging Face hub cache layout, offline, with a clear miss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hubCacheDir, ModelNotFoundError, repoIdOfSnapshotPath, resolveModelArg } from './hf-cache.ts';

/** models--org--name with refs/main → commit `main` and a second snapshot `other` reachable by refs/dev. */
function fakeCache(): string {
  const hub = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-hub-'));
  const repo = path.join(hub, 'models--org--name');
  for (const rev of ['aaaa1111', 'bbbb2222']) {
    fs.mkdirSync(path.join(repo, 'snapshots', rev), { recursive: true });
    fs.writeFileSync(path.join(repo, 'snapshots', rev, 'config.json'), '{}');
  }
  fs.mkdirSync(path.join(repo, 'refs'));
  fs.writeFileSync(path.join(repo, 'refs', 'main'), 'aaaa1111');
  fs.writeFileSync(path.join(repo, 'refs', 'dev'), 'bbbb2222\n');
  const gguf = path.join(hub, 'models--org--name-GGUF', 'snapshots', 'cccc3333');
  fs.mkdirSync(gguf, { recursive: true });
  fs.writeFileSync(path.join(gguf, 'model-Q4_K_M.gguf'), '');
  return hub;
}

test('the cache directory follows huggingface_hub: HF_HUB_CACHE, then HF_HOME/hub, then ~/.cache/huggingface/hub', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }), '/c');
  assert.equal(hubCacheDir({ HF_HOME: '/h' }), path.join('/h', 'hub'));
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), path.join('/x', 'huggingface', 'hub'));
});

test('org/name is refs/main, @ref and @commit pick other snapshots, a GGUF-only repo gives its file; served as org/name', (t) => {
  const hub = fakeCache();
  t.after(() => fs.rmSync(hub, { recursive: true, force: true }));
  const env = { HF_HUB_CACHE: hub };
  const snap = (rev: string) => path.join(hub, 'models--org--name', 'snapshots', rev);
  assert.deepEqual(resolveModelArg('org/name', env), { path: snap('aaaa1111'), servedName: 'org/name', repoId: 'org/name' });
  assert.equal(resolveModelArg('org/name@dev', env).path, snap('bbbb2222'));
  assert.equal(resolveModelArg('org/name@bbbb2222', env).path, snap('bbbb2222'));
  const gguf = resolveModelArg('org/name-GGUF', { HF_HOME: path.dirname(hub), HF_HUB_CACHE: hub });
  assert.equal(path.basename(gguf.path), 'model-Q4_K_M.gguf', 'no refs/main: the only snapshot');
  assert.equal(gguf.servedName, 'org/name-GGUF');
});

test('a snapshot path given directly is served as org/name, not as its commit hash', (t) => {
  const hub = fakeCache();
  t.after(() => fs.rmSync(hub, { recursive: true, force: true }));
  const snap = path.join(hub, 'models--org--name', 'snapshots', 'aaaa1111');
  assert.equal(repoIdOfSnapshotPath(snap), 'org/name');
  assert.deepEqual(resolveModelArg(snap, {}), { path: snap, servedName: 'org/name', repoId: 'org/name' });
  assert.equal(resolveModelArg('/not/there/llama/', {}).servedName, 'llama');
  assert.equal(resolveModelArg('/not/there/llama/', {}).repoId, null);
});

test('a miss says where it looked and that nothing is downloaded', (t) => {
  const hub = fakeCache();
  t.after(() => fs.rmSync(hub, { recursive: true, force: true }));
  assert.throws(
    () => resolveModelArg('org/missing', { HF_HUB_CACHE: hub }),
    (e: unknown) =>
      e instanceof ModelNotFoundError &&
      e.message.includes(path.join(hub, 'models--org--missing', 'refs', 'main')) &&
      /HF_HUB_CACHE/.test(e.message) &&
      /nothing is downloaded/.test(e.message),
  );
  assert.throws(() => resolveModelArg('org/name@nope', { HF_HUB_CACHE: hub }), /snapshots\/nope/);
});
