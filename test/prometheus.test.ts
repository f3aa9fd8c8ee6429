// A real Prometheus server scrapes a real Tessera's /metrics; its query API shows the histograms moving with traffic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './helpers/ports.ts';
import { sharedCluster, type SharedCluster } from './helpers/shared-cluster.ts';
import { postJson } from './helpers/sse.ts';
import { REPO_ROOT } from './helpers/paths.ts';

const HAVE_PROMETHEUS = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
const SKIP = 'the prometheus binary is not installed (Debian: apt-get install prometheus; .ci/run does it)';

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Prometheus scrapes /metrics', { skip: HAVE_PROMETHEUS ? false : SKIP }, () => {
  let cluster: SharedCluster;
  let prometheus: ChildProcess;
  let promUrl: string;
  let dir: string;
  let promLog = '';

  before(async () => {
    cluster = await sharedCluster();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-prom-'));
    const target = new URL(cluster.url).host;
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: tessera\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (d) => (promLog += d));
    prometheus.stderr!.on('data', (d) => (promLog += d));
    await until('prometheus ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : null));
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus.once('exit', r));
      prometheus.kill('SIGTERM');
      const timer = setTimeout(() => prometheus.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await cluster?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Sum of an instant-vector query's values, or null while it has no series. */
  async function query(expr: string): Promise<number | null> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    assert.equal(body.status, 'success', JSON.stringify(body));
    if (body.data.result.length === 0) return null;
    return body.data.result.reduce((s, r) => s + Number(r.value[1]), 0);
  }

  test('the target is up; after traffic the TTFT, ITL, e2e, queue and step histograms moved', async () => {
    await until('first scrape', async () => ((await query('up{job="tessera"}')) === 1 ? true : null));
    const before = await until('TTFT series', () => query('tessera_time_to_first_token_seconds_count'));
    const requests = 4;
    for (let i = 0; i < requests; i++) {
      const r = await postJson(`${cluster.url}/generate`, { inputs: `Hello ${i}`, parameters: { max_new_tokens: 8 } });
      assert.equal(r.status, 200);
    }
    await until(`TTFT count +${requests}`, async () => ((await query('tessera_time_to_first_token_seconds_count')) === before + requests ? true : null));
    // Observed as each request ends, possibly just after its response: wait for the scrape that has them all.
    for (const name of ['tessera_request_duration_seconds', 'tessera_request_queue_duration_seconds', 'tessera_time_per_output_token_seconds']) {
      await until(name, async () => (((await query(`${name}_count`)) ?? 0) >= requests ? true : null), 10_000);
    }
    assert.ok(((await query('tessera_inter_token_latency_seconds_count')) ?? 0) > 0);
    assert.ok(((await query('tessera_batch_step_duration_seconds_count{method="decode"}')) ?? 0) > 0);
    assert.ok(((await query('tessera_shard_forward_duration_seconds_sum{method="prefill"}')) ?? 0) > 0, 'shard timings reach the router');
    const p50 = await query('histogram_quantile(0.5, sum by (le) (tessera_time_to_first_token_seconds_bucket))');
    assert.ok(p50 !== null && Number.isFinite(p50) && p50 > 0, `median TTFT ${p50}`);
    assert.equal(await query('tessera_shard_up'), 1);
    assert.ok(((await query('tessera_kv_cache_capacity_tokens')) ?? 0) > 0);
    assert.equal(await query('count(tessera_ready{model!=""})'), 1, 'series carry the model label');
  });

  test('TGI families are scraped under their TGI names and types', async () => {
    await until('tgi_request_count ≥ 4', async () => (((await query('tgi_request_count')) ?? 0) >= 4 ? true : null));
    const meta = (await (await fetch(`${promUrl}/api/v1/metadata`)).json()) as { data: Record<string, { type: string }[]> };
    for (const [name, type] of [
      ['tgi_request_count', 'counter'],
      ['tgi_request_success', 'counter'],
      ['tgi_request_duration', 'histogram'],
      ['tgi_queue_size', 'gauge'],
      ['tgi_batch_current_size', 'gauge'],
      ['tessera_http_requests_total', 'counter'],
      ['tessera_prefill_tokens_total', 'counter'],
      ['process_cpu_seconds_total', 'counter'],
    ]) {
      assert.equal(meta.data[name!]?.[0]?.type, type, name);
    }
  });

  test('every query of the shipped Grafana dashboard (deploy/grafana) returns data', async () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'grafana', 'tessera-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    // Grafana's variables, as Grafana would fill them in: every model, a window of several scrapes.
    const concrete = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replaceAll('$model', '.*');
    // Traffic spread over a few scrapes, so every rate() over the last minute has something to see.
    const seen = (await query('tgi_request_count')) ?? 0;
    for (let i = 0; i < 4; i++) {
      const r = await postJson(`${cluster.url}/generate`, { inputs: `Hello again ${i}`, parameters: { max_new_tokens: 8 } });
      assert.equal(r.status, 200);
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    await until('tgi_request_count +4', async () => (((await query('tgi_request_count')) ?? 0) >= seen + 4 ? true : null));
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: concrete(t.expr) })));
    assert.ok(exprs.length >= 20, `${exprs.length} queries`);
    for (const { panel, expr } of exprs) {
      assert.doesNotMatch(expr, /\$\w/, `${panel}: a variable left in ${expr}`);
      const value = await until(`${panel}: ${expr}`, () => query(expr), 15_000);
      assert.ok(!Number.isNaN(value), `${panel}: ${expr} gave NaN`);
    }
  });
});
