// The test renderer (kustomize.ts) against the real kustomize in `kubectl kustomize`, where kubectl is installed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../helpers/paths.ts';
import { BAD_LAYOUTS, withBadLayouts } from './bad-layouts.ts';
import { renderKustomization } from './kustomize.ts';

const K8S = path.join(REPO_ROOT, 'k8s');
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const SKIP = kubectl.status === 0 ? false : 'kubectl is not installed here (the renderer is still checked by k8s.test.ts)';

/** Lists of named items (env, containers, volumes) compared as sets: kustomize puts patch-added items first. */
const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical).sort((a, b) => String((a as { name?: unknown })?.name ?? '').localeCompare(String((b as { name?: unknown })?.name ?? '')))
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x)]))
      : v;

function kustomize(dir: string): Map<string, unknown> {
  const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const docs = parseAllDocuments(out.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
  return new Map(docs.map((m) => [`${m.kind}/${m.metadata.name}`, canonical(m)]));
}

describe('kustomize.ts renders what `kubectl kustomize` renders', { skip: SKIP }, () => {
  const overlays = readdirSync(path.join(K8S, 'overlays')).map((o) => `overlays/${o}`);
  for (const target of ['', 'base', ...overlays]) {
    test(`k8s/${target}`, () => {
      const dir = path.join(K8S, target);
      const real = kustomize(dir);
      const ours = new Map(renderKustomization(dir).map((m) => [`${m.kind}/${m.metadata.name}`, canonical(m)]));
      assert.deepEqual([...ours.keys()].sort(), [...real.keys()].sort());
      for (const [key, m] of ours) assert.deepEqual(m, real.get(key), key);
    });
  }

  // k8s.test.ts checks that the renderer rejects these; here kustomize must reject them too, with the same words
  test('both refuse an overlay inside the folder it builds on, and a file outside the kustomization', () => {
    withBadLayouts((root) => {
      for (const [dir, words] of BAD_LAYOUTS) {
        const out = spawnSync('kubectl', ['kustomize', path.join(root, 'overlays', dir)], { encoding: 'utf8' });
        assert.notEqual(out.status, 0, `kubectl kustomize overlays/${dir} should fail`);
        assert.match(out.stderr, words);
        assert.throws(() => renderKustomization(path.join(root, 'overlays', dir)), words);
      }
    });
  });
});
