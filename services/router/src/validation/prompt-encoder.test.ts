// @module Tests: prompts rendered and tokenized on worker threads — same result as inline, errors keep their code, the event loop stays free.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConstraintCompiler } from '@tessera/grammar';
import { ChatTemplate, TextTokenizer } from '@tessera/tokenization';
import { syntheticSentencePieceFiles } from '@tessera/testing';
import { ValidationError } from '../errors.ts';
import { startTestRouter, TEST_CHAT_TEMPLATE } from '../testing/router-harness.ts';
import { postJson } from '../testing/sse-client.ts';
import { EncoderPool } from './prompt-encoder.ts';
import { Validator } from './validate.ts';

const files = { ...syntheticSentencePieceFiles(), chatTemplate: TEST_CHAT_TEMPLATE };
const limits = { maxInputTokens: 64, maxTotalTokens: 80 };

test('the pool encodes text and chat exactly as the validator does inline; validation errors keep their code and field', async () => {
  const inline = new Validator({ tokenizer: TextTokenizer.fromFiles(files), chatTemplate: new ChatTemplate(TEST_CHAT_TEMPLATE), limits, eosTokenIds: [2] });
  const pool = new EncoderPool({ tokenizer: files, chatTemplate: TEST_CHAT_TEMPLATE, limits }, 2);
  try {
    const text = { kind: 'text', value: 'Hello world, a b c', field: 'inputs' } as const;
    const chat = { kind: 'chat', value: [{ role: 'user', content: 'Hello a' }], field: 'messages' } as const;
    const options = { addSpecialTokens: undefined, truncate: undefined };
    assert.deepEqual(await pool.encode(text, options), inline.encodePrompt(text, options));
    assert.deepEqual(await pool.encode(chat, options), inline.encodePrompt(chat, options));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.encode({ ...text, value: `a b ${i}` }, options)));
    results.forEach((r, i) => assert.equal(r.promptText, `a b ${i}`));
    await assert.rejects(pool.encode({ ...text, value: 'a'.repeat(10_000) }, options), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.param, 'inputs');
      assert.match(err.message, /at least \d+ \(10000 UTF-8 bytes/);
      return true;
    });
    await assert.rejects(pool.encode({ ...chat, value: [] }, options), (err: unknown) => err instanceof ValidationError && err.param === 'messages');
  } finally {
    await pool.close();
  }
});

test('a pool started before the limits are known (start-up, beside the shards) loads at once and checks against the limits given later', async () => {
  const pool = new EncoderPool({ tokenizer: files, chatTemplate: TEST_CHAT_TEMPLATE, limits: null }, 2);
  try {
    await pool.ready();
    pool.setLimits({ maxInputTokens: 4, maxTotalTokens: 8 });
    const options = { addSpecialTokens: undefined, truncate: undefined };
    const short = await pool.encode({ kind: 'text', value: 'a b', field: 'inputs' }, options);
    assert.equal(short.promptText, 'a b');
    await assert.rejects(
      pool.encode({ kind: 'text', value: 'a b c '.repeat(10), field: 'inputs' }, options),
      (err: unknown) => err instanceof ValidationError && err.param === 'inputs',
    );
  } finally {
    await pool.close();
  }
});

test('the pool starts one thread and another only when a call finds it busy; a short prompt does not wait behind a long one', async () => {
  const pool = new EncoderPool({ tokenizer: files, chatTemplate: null, limits: null }, 2);
  try {
    await pool.ready();
    pool.setLimits(limits);
    const options = { addSpecialTokens: undefined, truncate: 8 };
    const short = { kind: 'text', value: 'Hello a', field: 'inputs' } as const;
    for (let i = 0; i < 3; i++) await pool.encode(short, options);
    assert.equal(pool.threads, 1, 'calls one after another need one thread');
    // 128 KiB with truncate (so not refused by length): seconds of tokenization.
    const long = pool.encode({ kind: 'text', value: 'Hello a '.repeat(16_384), field: 'inputs' }, options).then((r) => ({ r, at: performance.now() }));
    const shortDone = await pool.encode(short, options).then((r) => ({ r, at: performance.now() }));
    const longDone = await long;
    assert.equal(pool.threads, 2);
    assert.ok(shortDone.at < longDone.at, 'the short prompt went to the second thread instead of waiting');
    assert.equal(shortDone.r.promptText, 'Hello a');
    assert.ok(longDone.r.ids.length > 8);
    // Both threads free: two calls at once go one to each, and the later thread checks the limits too.
    const over = { kind: 'text', value: 'a b c '.repeat(100), field: 'inputs' } as const;
    const refused = await Promise.allSettled([0, 1].map(() => pool.encode(over, { addSpecialTokens: undefined, truncate: undefined })));
    assert.deepEqual(
      refused.map((r) => r.status === 'rejected' && r.reason instanceof ValidationError),
      [true, true],
    );
  } finally {
    await pool.close();
  }
});

test('grammars compile on the pool as on the main thread; a refused one is a ValidationError naming its field', async () => {
  const pool = new EncoderPool({ tokenizer: files, chatTemplate: TEST_CHAT_TEMPLATE, limits }, 1);
  try {
    const c = { constraint: { type: 'choice' as const, choices: ['yes', 'no'] }, field: 'guided_choice' };
    assert.equal(await pool.compileGrammar(c), await new ConstraintCompiler().wire(c.constraint));
    await assert.rejects(pool.compileGrammar({ constraint: { type: 'regex', pattern: '[a-' }, field: 'guided_regex' }), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.param, 'guided_regex');
      assert.match(err.message, /^`guided_regex`: .*Unclosed/);
      return true;
    });
    // The thread keeps serving after the engine aborted.
    assert.equal(typeof (await pool.compileGrammar({ constraint: { type: 'json_object' }, field: 'response_format' })), 'string');
  } finally {
    await pool.close();
  }
});

test('while a long prompt is tokenized, the router still answers /live and other requests (tokenization runs on a worker thread)', async () => {
  const t = await startTestRouter();
  try {
    // 256 KiB with truncate (so not refused by length): seconds of tokenization.
    const big = postJson(`${t.url}/generate`, { inputs: 'Hello a '.repeat(32_768), parameters: { truncate: 8, max_new_tokens: 1 } }).then((r) => ({
      r,
      at: performance.now(),
    }));
    await new Promise((r) => setTimeout(r, 100));
    const live = await fetch(`${t.url}/live`);
    const liveAt = performance.now();
    const small = await postJson(`${t.url}/generate`, { inputs: 'Hello a', parameters: { max_new_tokens: 2 } });
    const smallAt = performance.now();
    const done = await big;
    assert.equal(live.status, 200);
    assert.equal(small.body.generated_text, 'bc');
    assert.equal(done.r.status, 200);
    assert.ok(liveAt < done.at && smallAt < done.at, '/live and a small request were answered while the long prompt was still being tokenized');
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, /tessera_event_loop_delay_seconds\{quantile="0\.99"[^}]*\} [0-9.e-]+/);
  } finally {
    await t.close();
  }
});

test('a 1 MiB prompt that cannot fit max_input_tokens is refused from its length at once (422)', async () => {
  const t = await startTestRouter();
  try {
    const res = await postJson(`${t.url}/generate`, { inputs: 'Hello a '.repeat(131_072), parameters: { max_new_tokens: 1 } });
    assert.equal(res.status, 422);
    assert.match(res.body.error, /must have less than \d+ tokens \(max_input_tokens\)\. Given: at least \d+ \(1048576 UTF-8 bytes/);
  } finally {
    await t.close();
  }
});

test('large bodies are parsed on the worker threads with the same answers: valid JSON served, invalid JSON refused as express.json would (TGI: 422, OpenAI: 400)', async () => {
  const t = await startTestRouter();
  try {
    const pad = ' '.repeat(100_000);
    const ok = await postJson(`${t.url}/generate`, `${pad}{"inputs": "Hello a", "parameters": {"max_new_tokens": 2}}${pad}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.generated_text, 'bc');
    const bad = await postJson(`${t.url}/generate`, `{"inputs": "${'a'.repeat(100_000)}"`);
    assert.equal(bad.status, 422);
    assert.match(bad.body.error, /not valid JSON/);
    const badOpenAI = await postJson(`${t.url}/v1/completions`, `{"prompt": "${'a'.repeat(100_000)}"`);
    assert.equal(badOpenAI.status, 400);
  } finally {
    await t.close();
  }
});
