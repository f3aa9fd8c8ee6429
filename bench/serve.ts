// @module `npm run bench`: closed-loop streaming load against an OpenAI-compatible server; prints a table, writes JSON.
import fs from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { BenchArgsError, USAGE, parseBenchArgs } from './args.ts';
import type { BenchArgs } from './args.ts';
import { discoverModel, runLoad, warmup } from './load.ts';
import type { LoadOptions } from './load.ts';
import { computeMetrics, describeFinishReasons } from './metrics.ts';
import type { BenchmarkMetrics } from './metrics.ts';
import { BUILTIN_PROMPTS, loadPrompts } from './prompts.ts';
import type { RequestRecord } from './request.ts';
import { describeAcceptance, readDraftCounters } from './speculation.ts';
import { renderTable } from './table.ts';
import { renderTimeSplit, scrapeStepMetrics, timeSplit } from './time-split.ts';

const FALLBACK_MODEL = 'tessera';

/** Everything written by --json: the run's configuration, its metrics, and each request's record. */
export interface BenchReport {
  date: string;
  config: Omit<BenchArgs, 'help' | 'quiet' | 'jsonOut'> & { model: string; promptCount: number };
  metrics: BenchmarkMetrics;
  requests: Array<Omit<RequestRecord, 'text'> & { textLength: number }>;
}

function progress(quiet: boolean, total: number): LoadOptions['onRequestDone'] {
  if (quiet) return undefined;
  const tty = process.stderr.isTTY === true;
  const step = Math.max(1, Math.ceil(total / 10));
  let failed = 0;
  return (record, finished) => {
    if (!record.ok) failed++;
    if (tty) process.stderr.write(`\r${finished}/${total} requests done, ${failed} failed`);
    else if (finished % step === 0 || finished === total) process.stderr.write(`${finished}/${total} requests done, ${failed} failed\n`);
    if (tty && finished === total) process.stderr.write('\n');
  };
}

/** Runs the benchmark for already-parsed args; resolves the process exit code. */
export async function runBenchmark(args: BenchArgs, log: (line: string) => void = console.log): Promise<number> {
  const prompts = args.promptsFile ? await loadPrompts(args.promptsFile) : [...BUILTIN_PROMPTS];
  let model = args.model ?? (await discoverModel(args.url));
  if (model === undefined) {
    console.error(`bench: could not read a model id from ${args.url}/v1/models; sending model "${FALLBACK_MODEL}"`);
    model = FALLBACK_MODEL;
  }
  const options: LoadOptions = {
    url: args.url,
    endpoint: args.endpoint,
    model,
    prompts,
    numRequests: args.numRequests,
    concurrency: args.concurrency,
    maxTokens: args.maxTokens,
    temperature: args.temperature,
    ...(args.topP !== undefined ? { topP: args.topP } : {}),
    ignoreEos: args.ignoreEos,
    seed: args.seed,
    timeoutMs: args.timeoutS * 1000,
    ...(args.responseFormatFile !== undefined ? { responseFormat: JSON.parse(fs.readFileSync(args.responseFormatFile, 'utf8')) as unknown } : {}),
  };
  log(
    `Benchmarking ${args.url} /v1/${args.endpoint === 'chat' ? 'chat/completions' : 'completions'}, model "${model}": ` +
      `${args.numRequests} requests, concurrency ${args.concurrency}, max_tokens ${args.maxTokens}, ${prompts.length} prompts`,
  );

  if (args.warmup > 0) {
    const warm = await warmup(options, args.warmup);
    const firstError = warm.find((r) => !r.ok)?.error;
    if (warm.every((r) => !r.ok)) {
      console.error(`bench: every warmup request failed; is the server up? First error: ${firstError}`);
      return 1;
    }
    log(`Warmup: ${warm.filter((r) => r.ok).length}/${warm.length} requests succeeded`);
  }

  // Tessera's own step histograms, read around the timed run, split the time per token (other servers: skipped).
  const before = await scrapeStepMetrics(args.url);
  const draftsBefore = await readDraftCounters(args.url);
  const { records, durationMs } = await runLoad({ ...options, onRequestDone: progress(args.quiet, args.numRequests) });
  const after = before === null ? null : await scrapeStepMetrics(args.url);
  const metrics = computeMetrics(records, durationMs);
  log(renderTable(metrics, { concurrency: args.concurrency }));
  // Constrained outputs end when the grammar completes (stop) or run into max_tokens (length): worth seeing.
  if (metrics.completed > 0) log(`Finish reasons: ${describeFinishReasons(records)}`);
  const split = before !== null && after !== null ? timeSplit(before, after, metrics.tpotMs.mean) : null;
  if (split !== null) log(renderTimeSplit(split));
  const acceptance = describeAcceptance(draftsBefore, await readDraftCounters(args.url));
  if (acceptance !== null) log(acceptance);

  const failures = records.filter((r) => !r.ok);
  if (failures.length > 0) {
    log(`Failed requests (first ${Math.min(10, failures.length)} of ${failures.length}):`);
    for (const r of failures.slice(0, 10)) log(`  #${r.index}: ${r.error}`);
  }
  const noUsage = records.filter((r) => r.ok && r.usageCompletionTokens === null).length;
  if (noUsage > 0) log(`Note: ${noUsage} responses had no usage chunk; their output tokens were counted as content chunks.`);

  if (args.jsonOut) {
    const { help: _help, quiet: _quiet, jsonOut: _json, ...config } = args;
    const report: BenchReport = {
      date: new Date().toISOString(),
      config: { ...config, model, promptCount: prompts.length },
      metrics,
      requests: records.map(({ text, ...r }) => ({ ...r, textLength: text.length })),
    };
    await writeFile(args.jsonOut, JSON.stringify(report, null, 2) + '\n');
    log(`Wrote ${args.jsonOut}`);
  }
  return metrics.completed > 0 ? 0 : 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (err) {
    if (!(err instanceof BenchArgsError)) throw err;
    console.error(`bench: ${err.message}\nRun with --help for the flags.`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    return await runBenchmark(args);
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
