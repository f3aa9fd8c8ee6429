// @module Command-line flags of `npm run bench`, parsed and validated into BenchArgs (or a clear error).
import { parseArgs } from 'node:util';
import type { Endpoint } from './request.ts';

export interface BenchArgs {
  url: string;
  concurrency: number;
  numRequests: number;
  maxTokens: number;
  endpoint: Endpoint;
  /** undefined ⇒ ask the server (`GET /v1/models`). */
  model?: string;
  /** undefined ⇒ the built-in prompt set. */
  promptsFile?: string;
  seed: number;
  jsonOut?: string;
  warmup: number;
  ignoreEos: boolean;
  /** --response-format FILE: a JSON file with the OpenAI `response_format` every request sends. */
  responseFormatFile?: string;
  temperature: number;
  /** top_p of every request; absent = not sent (the server's default). */
  topP?: number;
  timeoutS: number;
  quiet: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [flags]

Streams -n requests through -c concurrent clients (closed loop) to an OpenAI-compatible server and
reports throughput, TTFT, TPOT, ITL and end-to-end latency as vLLM's \`vllm bench serve\` defines them.

  --url URL              server base URL (default http://127.0.0.1:8080)
  -c, --concurrency N    requests in flight at once (default 32)
  -n, --num-requests N   total timed requests (default 256)
  --max-tokens N         max_tokens per request (default 128)
  --endpoint E           completions (prompt) | chat (messages) (default completions)
  --model NAME           model field of each request (default: first id from GET /v1/models)
  --prompts FILE         JSON array of strings, or JSONL of {"prompt": "..."} (default: 64 built-in prompts)
  --seed N               prompt order (0 = request i uses prompt i mod len) and per-request sampling seed (default 0)
  --temperature T        sampling temperature (default 0 = greedy)
  --top-p P              nucleus sampling: each request's top_p, in (0, 1] (default: not sent)
  --ignore-eos           ask the server to generate max_tokens tokens regardless of EOS (vLLM extension)
  --response-format FILE send this JSON file as every request's response_format (constrained decoding)
  --warmup N             untimed requests sent first (default 2)
  --timeout S            per-request timeout in seconds (default 600)
  --json FILE            write config, metrics and per-request records as JSON
  --quiet                no progress line on stderr
  -h, --help             this text`;

function topP(raw: string): number {
  const p = Number(raw);
  if (raw.trim() === '' || !(p > 0 && p <= 1)) throw new BenchArgsError(`--top-p must be a number in (0, 1], got "${raw}"`);
  return p;
}

export class BenchArgsError extends Error {
  override readonly name = 'BenchArgsError';
}

function integer(raw: string | undefined, flag: string, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min) throw new BenchArgsError(`${flag} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

function number(raw: string | undefined, flag: string, fallback: number, min: number, exclusiveMin = false): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const tooSmall = exclusiveMin ? n <= min : n < min;
  if (raw.trim() === '' || !Number.isFinite(n) || tooSmall) {
    throw new BenchArgsError(`${flag} must be a number ${exclusiveMin ? '>' : '≥'} ${min}, got "${raw}"`);
  }
  return n;
}

/** Parses argv (without node and script); throws BenchArgsError naming the flag on bad input. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        concurrency: { type: 'string', short: 'c' },
        'num-requests': { type: 'string', short: 'n' },
        'max-tokens': { type: 'string' },
        endpoint: { type: 'string' },
        model: { type: 'string' },
        prompts: { type: 'string' },
        seed: { type: 'string' },
        temperature: { type: 'string' },
        'top-p': { type: 'string' },
        'ignore-eos': { type: 'boolean' },
        'response-format': { type: 'string' },
        warmup: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new BenchArgsError((err as Error).message);
  }
  const url = values.url ?? 'http://127.0.0.1:8080';
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new BenchArgsError(`--url must be an http(s) URL, got "${url}"`);
  }
  const endpoint = values.endpoint ?? 'completions';
  if (endpoint !== 'completions' && endpoint !== 'chat') {
    throw new BenchArgsError(`--endpoint must be "completions" or "chat", got "${endpoint}"`);
  }
  if (values.model !== undefined && values.model.trim() === '') throw new BenchArgsError('--model must not be empty');
  return {
    url,
    concurrency: integer(values.concurrency, '--concurrency (-c)', 32, 1),
    numRequests: integer(values['num-requests'], '--num-requests (-n)', 256, 1),
    maxTokens: integer(values['max-tokens'], '--max-tokens', 128, 1),
    endpoint,
    model: values.model,
    promptsFile: values.prompts,
    seed: integer(values.seed, '--seed', 0, 0),
    jsonOut: values.json,
    warmup: integer(values.warmup, '--warmup', 2, 0),
    ignoreEos: values['ignore-eos'] ?? false,
    ...(values['response-format'] !== undefined ? { responseFormatFile: values['response-format'] } : {}),
    temperature: number(values.temperature, '--temperature', 0, 0),
    ...(values['top-p'] !== undefined ? { topP: topP(values['top-p']) } : {}),
    timeoutS: number(values.timeout, '--timeout', 600, 0, true),
    quiet: values.quiet ?? false,
    help: values.help ?? false,
  };
}
