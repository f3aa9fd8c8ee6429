// @module Tests of the bench CLI flag parser: defaults, short flags and error messages naming the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BenchArgsError, parseBenchArgs } from './args.ts';

test('defaults', () => {
  assert.deepEqual(parseBenchArgs([]), {
    url: 'http://127.0.0.1:8080',
    concurrency: 32,
    numRequests: 256,
    maxTokens: 128,
    endpoint: 'completions',
    model: undefined,
    promptsFile: undefined,
    seed: 0,
    jsonOut: undefined,
    warmup: 2,
    ignoreEos: false,
    temperature: 0,
    timeoutS: 600,
    quiet: false,
    help: false,
  });
});

test('every flag, short and long, --flag=value form', () => {
  const a = parseBenchArgs([
    '--url',
    'http://10.0.0.2:9000',
    '-c',
    '4',
    '--num-requests=16',
    '--max-tokens',
    '64',
    '--endpoint',
    'chat',
    '--model',
    'llama',
    '--prompts',
    'p.jsonl',
    '--seed',
    '3',
    '--json',
    'out.json',
    '--warmup',
    '0',
    '--ignore-eos',
    '--response-format',
    'rf.json',
    '--temperature',
    '0.8',
    '--timeout',
    '1.5',
    '--quiet',
  ]);
  assert.equal(a.url, 'http://10.0.0.2:9000');
  assert.equal(a.concurrency, 4);
  assert.equal(a.numRequests, 16);
  assert.equal(a.maxTokens, 64);
  assert.equal(a.endpoint, 'chat');
  assert.equal(a.model, 'llama');
  assert.equal(a.promptsFile, 'p.jsonl');
  assert.equal(a.seed, 3);
  assert.equal(a.jsonOut, 'out.json');
  assert.equal(a.warmup, 0);
  assert.equal(a.ignoreEos, true);
  assert.equal(a.responseFormatFile, 'rf.json');
  assert.equal(a.temperature, 0.8);
  assert.equal(a.timeoutS, 1.5);
  assert.equal(a.quiet, true);
  assert.equal(parseBenchArgs(['--concurrency', '2', '--num-requests', '5']).numRequests, 5);
  assert.equal(parseBenchArgs(['-h']).help, true);
  assert.equal(parseBenchArgs(['--top-p', '0.9']).topP, 0.9);
  assert.equal(parseBenchArgs([]).topP, undefined);
});

test('bad input fails with a message naming the flag', () => {
  const cases: Array<[string[], RegExp]> = [
    [['-c', '0'], /--concurrency \(-c\) must be an integer ≥ 1, got "0"/],
    [['-n', '2.5'], /--num-requests \(-n\) must be an integer ≥ 1/],
    [['--max-tokens', 'lots'], /--max-tokens must be an integer/],
    [['--warmup=-1'], /--warmup must be an integer ≥ 0/],
    [['--warmup', '-1'], /--warmup/],
    [['--temperature=-0.1'], /--temperature must be a number ≥ 0/],
    [['--timeout', '0'], /--timeout must be a number > 0/],
    [['--top-p', '0'], /--top-p must be a number in \(0, 1\], got "0"/],
    [['--top-p', '1.5'], /--top-p must be a number in \(0, 1\]/],
    [['--endpoint', 'generate'], /--endpoint must be "completions" or "chat"/],
    [['--url', 'localhost:8080'], /--url must be an http\(s\) URL/],
    [['--model', ''], /--model must not be empty/],
    [['--frobnicate'], /Unknown option '--frobnicate'/],
    [['-c'], /-c, --concurrency <value>' argument missing/],
    [['extra'], /Unexpected argument 'extra'/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseBenchArgs(argv),
      (err: unknown) => err instanceof BenchArgsError && message.test(err.message),
      argv.join(' '),
    );
  }
});
