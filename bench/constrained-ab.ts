// @module `npm run bench:constrained`: free and constrained (response_format) rounds alternated against one server, at each concurrency.
// One server and alternating rounds so the 2 shared cores' noise falls on both alike (docs/benchmarks.md, Constrained decoding).
//
//   npm run bench:constrained -- MODEL [--rounds 2] [-c 1,32] [-n 24,128] [--max-tokens 128] [--free-max-tokens N]
//                                      [--temperature 0.8] [--response-format bench/response-format-person.json] [--port 18460] [--url URL]
// --free-max-tokens: the free rounds' max_tokens (default --max-tokens). Constrained outputs stop when the document is
// complete, usually well before max_tokens; giving free rounds about the same length compares steps at equal context.
// MODEL: a .gguf file or an HF directory, launched here with `tessera launch`; --url measures a running server instead.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { discoverModel, type LoadOptions, runLoad, warmup } from './load.ts';
import { computeMetrics, describeFinishReasons } from './metrics.ts';
import { BUILTIN_PROMPTS } from './prompts.ts';
import { scrapeStepMetrics, timeSplit } from './time-split.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', short: 'c', default: '1,32' },
    'num-requests': { type: 'string', short: 'n', default: '24,128' },
    'max-tokens': { type: 'string', default: '128' },
    'free-max-tokens': { type: 'string' },
    temperature: { type: 'string', default: '0.8' },
    'response-format': { type: 'string', default: 'bench/response-format-person.json' },
    port: { type: 'string', default: '18460' },
    url: { type: 'string' },
    threads: { type: 'string' },
  },
});
const list = (s: string) => s.split(',').map((x) => Number.parseInt(x, 10));
const concurrencies = list(values.concurrency);
const requests = list(values['num-requests']);
if (requests.length !== concurrencies.length) throw new Error('-n needs one count per -c value');
const responseFormat = JSON.parse(fs.readFileSync(values['response-format'], 'utf8')) as unknown;

let server: ChildProcess | null = null;
let url = values.url;
if (url === undefined) {
  const model = positionals[0];
  if (model === undefined) throw new Error('usage: npm run bench:constrained -- MODEL [flags] (or --url URL)');
  url = `http://127.0.0.1:${values.port}`;
  const threads = values.threads !== undefined ? ['--threads', values.threads] : [];
  server = spawn(process.execPath, ['bin/tessera.js', 'launch', '--model-id', model, '--port', values.port, '--log-level', 'warn', ...threads], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.on('exit', () => server?.kill('SIGTERM'));
  for (;;) {
    if (server.exitCode !== null) throw new Error(`the server exited (${server.exitCode}) before it was ready`);
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const base: LoadOptions = {
  url,
  endpoint: 'completions',
  model: (await discoverModel(url)) ?? 'tessera',
  prompts: BUILTIN_PROMPTS,
  numRequests: 1,
  concurrency: 1,
  maxTokens: Number(values['max-tokens']),
  temperature: Number(values.temperature),
  ignoreEos: false,
  seed: 0,
  timeoutMs: 600_000,
};
const freeMaxTokens = Number(values['free-max-tokens'] ?? values['max-tokens']);
// The first constrained request compiles the grammar (up to seconds at a 150k vocabulary), and the first steps at a
// batch size are slow: two untimed waves of each mode at each concurrency first.
for (const c of concurrencies) {
  await warmup({ ...base, concurrency: c, maxTokens: freeMaxTokens }, 2 * c);
  await warmup({ ...base, concurrency: c, responseFormat }, 2 * c);
}

console.log(
  `${base.model}, max_tokens ${base.maxTokens} (free rounds ${freeMaxTokens}), temperature ${base.temperature}, response_format from ${values['response-format']}\n`,
);
console.log(
  '| c | round | mode | output tok/s | median TPOT | mean output tokens | finish reasons | per decode step: forward / rest of the shard step / grammar masks (beside the forward) |',
);
console.log('|---|---|---|---|---|---|---|---|');
const ratios = new Map<number, number[]>();
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const [i, c] of concurrencies.entries()) {
    const tps: Record<string, number> = {};
    // Odd rounds free first, even rounds constrained first: neither always runs on a warmer machine.
    const modes = round % 2 === 1 ? (['free', 'constrained'] as const) : (['constrained', 'free'] as const);
    for (const mode of modes) {
      const options = {
        ...base,
        concurrency: c,
        numRequests: requests[i]!,
        seed: round * 1000,
        ...(mode === 'constrained' ? { responseFormat } : { maxTokens: freeMaxTokens }),
      };
      const before = await scrapeStepMetrics(url);
      const { records, durationMs } = await runLoad(options);
      const after = await scrapeStepMetrics(url);
      const m = computeMetrics(records, durationMs);
      const split = before !== null && after !== null ? timeSplit(before, after, m.tpotMs.mean) : null;
      const steps = split === null ? '-' : `${split.forwardMs.toFixed(2)} / ${split.shardOverheadMs.toFixed(2)} / ${split.grammarMaskMs.toFixed(3)} ms`;
      const failed = m.failed > 0 ? `, ${m.failed} failed` : '';
      tps[mode] = m.outputThroughput;
      console.log(
        `| ${c} | ${round} | ${mode} | ${m.outputThroughput.toFixed(0)} | ${m.tpotMs.median.toFixed(2)} ms | ${(m.totalOutputTokens / Math.max(1, m.completed)).toFixed(0)} | ${describeFinishReasons(records)}${failed} | ${steps} |`,
      );
    }
    ratios.set(c, [...(ratios.get(c) ?? []), tps.constrained! / tps.free!]);
  }
}
console.log('\nconstrained / free output tok/s, per round:');
for (const [c, r] of ratios) {
  const sorted = [...r].sort((a, b) => a - b);
  const median = (sorted[Math.floor((r.length - 1) / 2)]! + sorted[Math.ceil((r.length - 1) / 2)]!) / 2;
  console.log(`  c=${c}: ${r.map((x) => x.toFixed(2)).join(', ')} (median ${median.toFixed(2)})`);
}
server?.kill('SIGTERM');
