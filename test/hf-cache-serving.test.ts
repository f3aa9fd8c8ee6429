// `tessera launch org/name` serves stories260K from a Hugging Face cache layout (HF_HUB_CACHE, refs/main,
// snapshot files as symlinks into blobs, as huggingface_hub writes them), under the name org/name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './helpers/ports.ts';
import { REPO_ROOT, SKIP_NO_SHARED, sharedPath, TEST_CACHE } from './helpers/paths.ts';
import { postJson } from './helpers/sse.ts';

const HF_DIR = sharedPath('models', 'stories260K', 'hf');

/** models--tessera-test--stories260K with blobs/, refs/main and snapshots/<commit>/<file> → ../../blobs/<file>. */
function hubCacheAround(dir: string): string {
  const hub = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-hub-'));
  const repo = path.join(hub, 'models--tessera-test--stories260K');
  const commit = '0123456789abcdef0123456789abcdef01234567';
  fs.mkdirSync(path.join(repo, 'blobs'), { recursive: true });
  fs.mkdirSync(path.join(repo, 'refs'));
  fs.mkdirSync(path.join(repo, 'snapshots', commit), { recursive: true });
  for (const file of fs.readdirSync(dir)) {
    fs.symlinkSync(path.join(dir, file), path.join(repo, 'blobs', file));
    fs.symlinkSync(path.join('..', '..', 'blobs', file), path.join(repo, 'snapshots', commit, file));
  }
  fs.writeFileSync(path.join(repo, 'refs', 'main'), commit);
  return hub;
}

describe('serving from the Hugging Face cache', { skip: HF_DIR ? false : SKIP_NO_SHARED }, () => {
  let hub: string;
  let launcher: ChildProcess;
  let url: string;
  let out = '';

  before(async () => {
    hub = hubCacheAround(HF_DIR!);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    launcher = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'tessera.js'), 'tessera-test/stories260K', '--port', String(port), '--cache-dir', TEST_CACHE, '--log-level', 'warn'],
      {
        cwd: os.tmpdir(), // org/name must not resolve as a relative path
        env: { ...process.env, HF_HUB_CACHE: hub, HF_HUB_OFFLINE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    launcher.stdout!.on('data', (d) => (out += d));
    launcher.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 180_000;
    while (!out.includes('Tessera is ready')) {
      if (launcher.exitCode !== null || Date.now() > deadline) throw new Error(`not ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (launcher && launcher.exitCode === null) {
      const exited = new Promise((r) => launcher.once('exit', r));
      launcher.kill('SIGTERM');
      await exited;
    }
    if (hub) fs.rmSync(hub, { recursive: true, force: true });
  });

  test('the model is listed and answered as org/name, and it generates', async () => {
    assert.match(out, /model tessera-test\/stories260K/);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['tessera-test/stories260K'],
    );
    const r = await postJson(`${url}/v1/completions`, { model: 'tessera-test/stories260K', prompt: 'Once upon a time', max_tokens: 8 });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { model: string; choices: { text: string }[] };
    assert.equal(body.model, 'tessera-test/stories260K');
    assert.ok(body.choices[0]!.text.length > 0);
    // TGI's /info names a hub model by its repo id, as it was asked for.
    const info = (await (await fetch(`${url}/info`)).json()) as { model_id: string; served_model_name: string };
    assert.equal(info.model_id, 'tessera-test/stories260K');
    assert.equal(info.served_model_name, 'tessera-test/stories260K');
  });
});
