// .ci/apt-backports-source: the backports entry CI adds is derived from the machine's apt configuration
// (its mirror or proxy, options and keyring), in deb822 or one-line form; never a fixed host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './helpers/paths.ts';

const SCRIPT = path.join(REPO_ROOT, '.ci', 'apt-backports-source');

function machine(t: { after(fn: () => void): void }, files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-apt-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'etc/apt/sources.list.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/os-release'), 'ID=debian\nVERSION_CODENAME=bookworm\n');
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(root, file), text);
  return root;
}

const run = (root: string) => spawnSync('bash', [SCRIPT, root], { encoding: 'utf8' });

test('deb822: the stanza for the release (not -security, not disabled) gives URIs and keyring', (t) => {
  const root = machine(t, {
    'etc/apt/sources.list.d/debian.sources': [
      'Types: deb',
      'URIs: http://proxy.internal:3142/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://old.example/debian',
      'Suites: bookworm',
      'Enabled: no',
      '',
      '# the mirror this machine uses',
      'Types: deb deb-src',
      'URIs: http://proxy.internal:3142/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main contrib',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
    ].join('\n'),
  });
  const r = run(root);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    'Types: deb\nURIs: http://proxy.internal:3142/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
  );
});

test('one-line sources.list: the same URI and [options]', (t) => {
  const root = machine(t, {
    'etc/apt/sources.list':
      '# comment\ndeb http://mirror.example/debian-security bookworm-security main\ndeb [arch=amd64 signed-by=/k.gpg] https://mirror.example/debian bookworm main non-free\n',
  });
  const r = run(root);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'deb [arch=amd64 signed-by=/k.gpg] https://mirror.example/debian bookworm-backports main\n');
});

test('no entry for the release: exit 1 with a message; .ci/run names no mirror host of its own', (t) => {
  const root = machine(t, { 'etc/apt/sources.list': 'deb http://mirror.example/debian trixie main\n' });
  const r = run(root);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /no apt entry for bookworm/);
  const ci = fs.readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8');
  assert.doesNotMatch(ci, /https?:\/\//, '.ci/run writes no fixed mirror URL');
  assert.match(ci, /apt-backports-source/);
});
