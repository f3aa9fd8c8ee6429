// docker-compose.yml: valid against the compose specification schema, and wired consistently (ranks, URIs, health, Prometheus).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/paths.ts';
import { interpolate, loadCompose, routerServices, shardServices } from './compose-file.ts';
import { composeValidator } from './compose-schema.ts';

const require = createRequire(import.meta.url);

test('interpolation follows the compose rules used here', () => {
  assert.equal(interpolate('${A:-x}/${B-y}/${C}/$$D/$E', { A: '', B: '', C: 'c', E: 'e' }), 'x//c/$D/e');
  assert.equal(interpolate('${A:-x}', { A: 'a' }), 'a');
});

test('docker-compose.yml validates against the compose specification schema', () => {
  const validate = composeValidator();
  for (const vars of [{}, { TESSERA_MODEL_DIR: '/srv/models/llama', TESSERA_HTTP_PORT: '9000' }]) {
    const compose = loadCompose(vars);
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 2));
  }
  // The validator does reject a broken file (so the check above can fail).
  const broken = loadCompose();
  (broken.services['router'] as Record<string, unknown>).depends_on = { 'shard-0': { condition: 'healthy-ish' } };
  assert.equal(validate(broken), false);
});

test('shards: ranks 0..N-1, one world size = N, rank 0 is the master, shared read-only model, shm sized', () => {
  const compose = loadCompose();
  const shards = shardServices(compose);
  assert.ok(shards.length >= 2, 'the default cluster has at least 2 shards');
  shards.forEach(([name, s], rank) => {
    const env = s.environment!;
    assert.equal(env.TESSERA_RANK, String(rank), `${name} rank`);
    assert.equal(env.TESSERA_WORLD_SIZE, String(shards.length), `${name} world size`);
    assert.equal(env.TESSERA_MASTER_ADDR, shards[0]![0], `${name} rendezvous at the rank-0 service`);
    assert.match(env.TESSERA_MASTER_PORT ?? '', /^\d+$/);
    assert.equal(env.TESSERA_HOSTNAME, '0.0.0.0', `${name} listens beyond loopback`);
    assert.ok(
      s.volumes!.some((v) => v.endsWith(':/models:ro')),
      `${name} mounts the model read-only`,
    );
    assert.equal(env.TESSERA_MODEL_ID?.startsWith('/models'), true);
    assert.ok(s.shm_size, `${name} sizes /dev/shm`);
    assert.deepEqual(s.healthcheck!.test, ['CMD', 'tessera', 'health', '--grpc', `127.0.0.1:${env.TESSERA_PORT}`]);
  });
});

test('router: shard URIs are the shard services in rank order; it waits for them healthy; health and port line up', () => {
  const compose = loadCompose();
  const shards = shardServices(compose);
  const routers = routerServices(compose);
  assert.equal(routers.length, 1);
  const [, router] = routers[0]!;
  const env = router.environment!;
  assert.deepEqual(
    env.TESSERA_SHARD_URIS!.split(','),
    shards.map(([name, s]) => `${name}:${s.environment!.TESSERA_PORT}`),
  );
  for (const [name] of shards) assert.deepEqual(router.depends_on![name], { condition: 'service_healthy' });
  assert.deepEqual(router.healthcheck!.test, ['CMD', 'tessera', 'health', '--http', `http://127.0.0.1:${env.TESSERA_PORT}/health`]);
  assert.ok(router.ports!.some((p) => p.endsWith(`:${env.TESSERA_PORT}`)));
  const shardModel = shards[0]![1].volumes!.find((v) => v.endsWith(':/models:ro'));
  assert.ok(router.volumes!.includes(shardModel!), 'the router reads the same model directory (tokenizer, template)');
  assert.equal(env.TESSERA_MODEL_ID, shards[0]![1].environment!.TESSERA_MODEL_ID);
});

test('Prometheus scrapes the router /metrics by service name and port', () => {
  const compose = loadCompose();
  const [routerName, router] = routerServices(compose)[0]!;
  const prometheus = compose.services['prometheus']!;
  const mount = prometheus.volumes!.find((v) => v.endsWith(':/etc/prometheus/prometheus.yml:ro'))!;
  const config = parse(readFileSync(path.join(REPO_ROOT, mount.split(':')[0]!), 'utf8')) as {
    scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
  };
  const job = config.scrape_configs[0]!;
  assert.equal(job.metrics_path, '/metrics');
  assert.deepEqual(job.static_configs[0]!.targets, [`${routerName}:${router.environment!.TESSERA_PORT}`]);
});

test('the Dockerfile copies every workspace package.json before npm ci (or @tessera/* would not link)', () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] };
  const { readdirSync, existsSync } = require('node:fs') as typeof import('node:fs');
  for (const pattern of pkg.workspaces) {
    const dir = pattern.replace(/\/\*$/, '');
    for (const name of readdirSync(path.join(REPO_ROOT, dir))) {
      if (!existsSync(path.join(REPO_ROOT, dir, name, 'package.json'))) continue;
      assert.ok(dockerfile.includes(`COPY ${dir}/${name}/package.json ${dir}/${name}/`), `Dockerfile copies ${dir}/${name}/package.json`);
    }
  }
  assert.match(dockerfile, /npm ci --omit=dev/);
  assert.match(dockerfile, /^USER 10001/m);
  assert.match(dockerfile, /^HEALTHCHECK .*\["tessera", "health"\]/m);
  assert.match(dockerfile, /^ENTRYPOINT \["tessera"\]/m);
});
