// Fuzz: ≥ 1,000 seeded hostile requests across every POST route of a real Tessera: never a 5xx, errors
// in each API's own format, and the processes still serve a normal generation afterwards.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startCluster, type Cluster } from './helpers/cluster.ts';
import { HostileGenerator, nullSweep, POST_ROUTES, type HostileRequest } from './helpers/hostile-bodies.ts';

const SEED = Number(process.env.TESSERA_FUZZ_SEED ?? 20261203);
const COUNT = 1200;
const CONCURRENCY = 16;
/** The whole run must stay well inside the test's own budget on two shared cores. */
const BUDGET_MS = 60_000;

let cluster: Cluster;
before(async () => {
  // Short generations keep the valid bodies the mutations leave intact cheap.
  cluster = await startCluster(['--max-total-tokens', '48', '--max-input-tokens', '32']);
});
after(() => cluster?.stop());

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

function send(agent: http.Agent, base: string, r: HostileRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${r.route}`,
      { method: 'POST', agent, headers: { ...r.headers, 'content-length': String(r.body.length) }, timeout: 30_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d.length > 0 && text.length < 100_000 ? d : ''));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end(r.body);
  });
}

/** A 4xx body in the route's dialect: OpenAI {error:{message,type}}, TGI {error, error_type}. */
function assertErrorFormat(route: string, a: Answer, what: string): void {
  assert.match(a.contentType, /application\/json/, what);
  const json = JSON.parse(a.text) as Record<string, unknown>;
  if (route.startsWith('/v1/')) {
    const err = json.error as { message?: unknown; type?: unknown } | undefined;
    assert.equal(typeof err?.message, 'string', what);
    assert.equal(typeof err?.type, 'string', what);
  } else {
    assert.equal(typeof json.error, 'string', what);
    assert.equal(typeof json.error_type, 'string', what);
  }
}

test(`${COUNT} hostile requests (seed ${SEED}) over ${POST_ROUTES.length} POST routes: 0 × 5xx, errors in each API's format`, async () => {
  const gen = new HostileGenerator(SEED);
  const cases = Array.from({ length: COUNT }, () => gen.next());
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const started = Date.now();
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < cases.length && Date.now() - started < BUDGET_MS) {
      const i = nextIndex++;
      const r = cases[i]!;
      const what = `#${i} ${r.kind} ${r.route} ${JSON.stringify(r.headers)} ${r.body.subarray(0, 120).toString('latin1')}`;
      let a: Answer;
      try {
        a = await send(agent, cluster.url, r);
      } catch (err) {
        failures.push(`${what} → ${(err as Error).message}`);
        continue;
      }
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (a.status >= 500) failures.push(`${what} → ${a.status} ${a.text.slice(0, 300)}`);
      else if (a.status >= 400) {
        try {
          assertErrorFormat(r.route, a, what);
        } catch (_err) {
          failures.push(`${what} → ${a.status} not in the route's error format: ${a.text.slice(0, 300)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  const elapsed = Date.now() - started;
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} failures; statuses ${JSON.stringify([...statuses])}`);
  assert.equal(nextIndex >= COUNT, true, `only ${nextIndex} of ${COUNT} requests in ${BUDGET_MS} ms`);
  assert.ok(
    [...statuses.keys()].some((s) => s === 200),
    'some mutated bodies were still valid and served',
  );
  assert.ok(statuses.has(415) && statuses.has(400) && statuses.has(422), `expected 400, 415 and 422 among ${JSON.stringify([...statuses])}`);
  console.log(`fuzz: ${COUNT} requests in ${elapsed} ms, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);

  // Alive afterwards: the launcher (and so its shards and router) still runs, and a normal generation works.
  assert.equal(cluster.launcher.exitCode, null);
  const res = await fetch(`${cluster.url}/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: 'Once upon a time', parameters: { max_new_tokens: 4 } }),
  });
  assert.equal(res.status, 200);
  assert.equal(typeof ((await res.json()) as { generated_text: string }).generated_text, 'string');
  const health = await fetch(`${cluster.url}/health`);
  assert.equal(health.status, 200);
});

test("null, [null], {} and [] at every path of every route's valid body: a 2xx or a 4xx in the route's format, never a 5xx", async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const cases = nullSweep();
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      const body = Buffer.from(JSON.stringify(c.body));
      const a = await send(agent, cluster.url, { route: c.route, headers: { 'content-type': 'application/json' }, body, kind: 'null-sweep' });
      const what = `${c.route} ${c.path}`;
      if (a.status >= 500) failures.push(`${what} → ${a.status} ${a.text.slice(0, 200)}`);
      else if (a.status >= 400) {
        try {
          assertErrorFormat(c.route, a, what);
        } catch {
          failures.push(`${what} → ${a.status} not in the route's error format: ${a.text.slice(0, 200)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  assert.ok(cases.length > 150, `${cases.length} cases`);
  assert.deepEqual(failures, []);
});
