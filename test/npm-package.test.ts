// The npm package: `npm pack` (prepack compiles dist/) holds the compiled JavaScript and no TypeScript;
// installed globally into a temporary prefix, `tessera --version` and `tessera router --help` work.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distIsFresh } from '../bin/dist-freshness.js';
import { REPO_ROOT } from './helpers/paths.ts';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string; scripts: Record<string, string> };
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('npm pack + install', () => {
  let dir: string;
  let tarball: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-pack-'));
    // test/run.mjs builds dist/ before the suite. Packing that build as it is, without prepack's
    // rebuild, keeps the clusters other files start from dist/ meanwhile from finding it deleted.
    const scripts = distIsFresh(REPO_ROOT) ? ['--ignore-scripts'] : [];
    const out = execFileSync(NPM, ['pack', '--pack-destination', dir, '--json', ...scripts], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [info] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[];
    tarball = path.join(dir, info!.filename);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  test('the tarball is named for npm without colliding, and holds the compiled JavaScript, not the sources', () => {
    assert.equal(pkg.name, 'tessera-inference', 'the npm name "tessera" belongs to an unrelated package');
    assert.equal(pkg.scripts.prepack, 'node scripts/build.mjs', 'npm pack and npm publish compile dist/ first');
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    for (const f of [
      'package/bin/tessera.js',
      'package/dist/bin/tessera.js',
      'package/dist/services/launcher/src/cli.js',
      'package/dist/proto/generate.proto',
      'package/dist/proto/grpc/health/v1/health.proto',
    ]) {
      assert.ok(files.includes(f), f);
    }
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts') || f.includes('/test/') || f.includes('node_modules')),
      [],
    );
    const cli = execFileSync('tar', ['xzOf', tarball, 'package/dist/services/launcher/src/launch.js'], { encoding: 'utf8' });
    assert.doesNotMatch(cli, /from '@tessera\//, 'workspace imports are relative in dist/');
  });

  test('the unpacked package runs from dist/ with its dependencies beside it (no tsx, no sources)', () => {
    const unpacked = path.join(dir, 'unpacked');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['xzf', tarball, '-C', unpacked]);
    // Dependencies where an install would put them: the package's parent's node_modules.
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(unpacked, 'node_modules'));
    const bin = path.join(unpacked, 'package', 'bin', 'tessera.js');
    const env = { ...process.env, TESSERA_RUNTIME: '' };
    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', env });
    assert.equal(version.stdout.trim(), `tessera ${pkg.version}`, version.stderr);
    const help = spawnSync(process.execPath, [bin, 'router', '--help'], { encoding: 'utf8', env });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /usage: tessera router/);
  });

  test('npm install -g into a temporary prefix (offline, from the npm cache that npm ci filled), then tessera --version', (t) => {
    const prefix = path.join(dir, 'prefix');
    const install = spawnSync(NPM, ['install', '-g', '--prefix', prefix, tarball, '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      encoding: 'utf8',
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
      timeout: 300_000,
    });
    if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) {
      t.skip('the npm cache lacks the dependencies (node_modules was not installed by npm ci here); CI runs this step');
      return;
    }
    assert.equal(install.status, 0, install.stderr);
    const tessera = path.join(prefix, 'bin', 'tessera');
    const version = spawnSync(tessera, ['--version'], { encoding: 'utf8', env: { ...process.env, TESSERA_RUNTIME: '' } });
    assert.equal(version.stdout.trim(), `tessera ${pkg.version}`, version.stderr);
    const help = spawnSync(tessera, ['launch', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
  });
});
