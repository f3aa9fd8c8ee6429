// The full parameter surface end to end (official `openai` client + TGI over HTTP) against a real router + shard on the generated model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { sharedCluster, type SharedCluster } from './helpers/shared-cluster.ts';
import { postJson, readSse } from './helpers/sse.ts';

const close = (a: number, b: number, tol = 2e-4) => Math.abs(a - b) <= tol;

describe('parameters end to end', () => {
  let cluster: SharedCluster;
  let client: OpenAI;
  before(async () => {
    cluster = await sharedCluster();
    client = new OpenAI({ baseURL: `${cluster.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => cluster?.stop());

  const chat = (extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
    client.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'Tell me about a dog.' }], max_tokens: 8, temperature: 0, ...extra });

  test('chat logprobs: top_logprobs sorted, raw (the same under temperature), greedy picks the top one', async () => {
    const greedy = await chat({ logprobs: true, top_logprobs: 3 });
    const content = greedy.choices[0]!.logprobs!.content!;
    assert.equal(content.length, greedy.usage!.completion_tokens);
    for (const e of content) {
      assert.equal(e.top_logprobs.length, 3);
      assert.ok(e.top_logprobs[0]!.logprob >= e.top_logprobs[1]!.logprob && e.top_logprobs[1]!.logprob >= e.top_logprobs[2]!.logprob);
      assert.ok(close(e.logprob, e.top_logprobs[0]!.logprob), 'greedy chooses the most likely token');
      assert.ok(Array.isArray(e.bytes));
    }
    // Logprobs come from the raw distribution: a sharper temperature and top_k 1 (still greedy) report the same numbers.
    const warped = await chat({ logprobs: true, top_logprobs: 3, temperature: 0.3, top_k: 1 } as Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>);
    assert.equal(warped.choices[0]!.message.content, greedy.choices[0]!.message.content);
    warped.choices[0]!.logprobs!.content!.forEach((e, i) => assert.ok(close(e.logprob, content[i]!.logprob), `token ${i}`));
    await assert.rejects(chat({ logprobs: true, top_logprobs: 21 }), (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'top_logprobs');
  });

  test('n = 3 with a seed: three indexed choices, reproducible, usage sums completions; streamed choices carry their index', async () => {
    const params = { n: 3, seed: 11, temperature: 1.2, max_tokens: 6 };
    const a = await chat(params);
    const b = await chat(params);
    assert.deepEqual(
      a.choices.map((c) => c.index),
      [0, 1, 2],
    );
    assert.deepEqual(
      a.choices.map((c) => c.message.content),
      b.choices.map((c) => c.message.content),
    );
    assert.ok(new Set(a.choices.map((c) => c.message.content)).size > 1, 'choices are sampled independently');
    assert.equal(a.usage!.completion_tokens, 18);
    assert.equal(a.usage!.total_tokens, a.usage!.prompt_tokens + 18);
    const texts = ['', '', ''];
    const finishes: (string | null)[] = [null, null, null];
    for await (const c of await client.chat.completions.create({
      model: 'x',
      messages: [{ role: 'user', content: 'Tell me about a dog.' }],
      ...params,
      stream: true,
    })) {
      for (const ch of c.choices) {
        texts[ch.index] += ch.delta.content ?? '';
        finishes[ch.index] ??= ch.finish_reason;
      }
    }
    assert.deepEqual(
      texts,
      a.choices.map((c) => c.message.content),
    );
    assert.deepEqual(finishes, ['length', 'length', 'length']);
  });

  test('a seeded request gives the same output whatever runs beside it', async () => {
    const req = { model: 'x', prompt: 'Once upon a time', max_tokens: 12, temperature: 1, seed: 1234 };
    const alone = await client.completions.create(req);
    const [together] = await Promise.all([
      client.completions.create(req),
      client.completions.create({ ...req, prompt: 'A very different and much longer prompt to share the batch', seed: 5 }),
      client.completions.create({ ...req, seed: undefined, n: 2 }),
    ]);
    assert.equal(together.choices[0]!.text, alone.choices[0]!.text);
  });

  /** Greedy /generate with ids: the prompt's ids (prefill) and the generated ids and logprobs. */
  async function tgiGreedy(inputs: string, maxNewTokens: number) {
    const res = await postJson(`${cluster.url}/generate`, { inputs, parameters: { max_new_tokens: maxNewTokens, decoder_input_details: true } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      generated_text: string;
      details: { prefill: { id: number; logprob: number | null }[]; tokens: { id: number; logprob: number }[] };
    };
    return { text: body.generated_text, prefill: body.details.prefill, tokens: body.details.tokens };
  }

  test('logit_bias forces a token; frequency/presence penalties reduce repetition; stop_token_ids ends on a chosen id', async () => {
    const prompt = 'Once there was';
    const probe = await client.completions.create({ model: 'x', prompt, max_tokens: 16, temperature: 0, logprobs: 0 });
    const forced = await client.completions.create({ model: 'x', prompt, max_tokens: 5, temperature: 0, logit_bias: { '7': 100 }, logprobs: 0 });
    const forcedTokens = forced.choices[0]!.logprobs!.tokens!;
    assert.equal(forcedTokens.length, 5);
    assert.equal(new Set(forcedTokens).size, 1, `one token repeated, got ${JSON.stringify(forcedTokens)}`);
    const detok = (await (await postJson(`${cluster.url}/detokenize`, { tokens: [7, 7] })).json()) as { prompt: string };
    assert.ok(detok.prompt.includes(forcedTokens[0]!.trim()), `token 7 reads ${JSON.stringify(detok.prompt)}`);

    const repeats = (tokens: string[]) => Math.max(...[...new Set(tokens)].map((t) => tokens.filter((x) => x === t).length));
    const penalised = await client.completions.create({
      model: 'x',
      prompt,
      max_tokens: 16,
      temperature: 0,
      frequency_penalty: 2,
      presence_penalty: 2,
      logprobs: 0,
    });
    const before = repeats(probe.choices[0]!.logprobs!.tokens!);
    const afterPenalty = repeats(penalised.choices[0]!.logprobs!.tokens!);
    assert.ok(afterPenalty <= before, `penalties must not increase repetition (${afterPenalty} > ${before})`);
    if (before > 1) assert.notEqual(penalised.choices[0]!.text, probe.choices[0]!.text);

    // The third greedy token's id as a stop id: generation ends there (or earlier, if it came before).
    const { tokens } = await tgiGreedy(prompt, 16);
    // vLLM's extension: not in the client's types, sent as is.
    const vllm = { model: 'x', prompt, max_tokens: 16, temperature: 0, stop_token_ids: [tokens[2]!.id] } as OpenAI.CompletionCreateParamsNonStreaming;
    const stopped = await client.completions.create(vllm);
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
    assert.equal(stopped.usage!.completion_tokens, tokens.findIndex((t) => t.id === tokens[2]!.id) + 1);
  });

  test('completions: several prompts × n, echo with prompt logprobs equal to the generated ones, best_of, suffix refused', async () => {
    const many = await client.completions.create({ model: 'x', prompt: ['Once upon', 'The cat'], n: 2, max_tokens: 3, temperature: 0 });
    assert.deepEqual(
      many.choices.map((c) => c.index),
      [0, 1, 2, 3],
    );
    assert.equal(many.choices[0]!.text, many.choices[1]!.text);
    assert.notEqual(many.choices[0]!.text, many.choices[2]!.text);
    assert.equal(many.usage!.completion_tokens, 12);

    const top = await client.completions.create({ model: 'x', prompt: 'The cat', max_tokens: 3, temperature: 0, logprobs: 2 });
    const lp = top.choices[0]!.logprobs!;
    assert.equal(lp.tokens!.length, 3);
    assert.ok(lp.top_logprobs!.every((t) => Object.keys(t).length >= 1 && Object.keys(t).length <= 2));
    assert.deepEqual(lp.text_offset!.slice(0, 1), [0]);

    // Score prompt + greedy output with echo: the prompt logprobs of the output tokens equal the generation logprobs.
    const g = await tgiGreedy('The dog', 3);
    const ids = [...g.prefill.map((t) => t.id), ...g.tokens.map((t) => t.id)];
    const echoed = await client.completions.create({ model: 'x', prompt: [ids], max_tokens: 1, temperature: 0, echo: true, logprobs: 0 });
    const e = echoed.choices[0]!.logprobs!;
    assert.equal(e.tokens!.length, ids.length + 1);
    assert.equal(e.token_logprobs![0], null);
    g.tokens.forEach((t, k) =>
      assert.ok(close(e.token_logprobs![g.prefill.length + k]!, t.logprob), `token ${k}: ${e.token_logprobs![g.prefill.length + k]} vs ${t.logprob}`),
    );
    g.prefill.slice(1).forEach((t, k) => assert.ok(close(e.token_logprobs![k + 1]!, t.logprob!), `prompt token ${k + 1}`));
    // With echo and logprobs N, prompt positions carry their N alternatives too, the same the
    // generation step reports when that position is generated instead of echoed.
    const echoTop = await client.completions.create({ model: 'x', prompt: [ids], max_tokens: 1, temperature: 0, echo: true, logprobs: 2 });
    const et = echoTop.choices[0]!.logprobs!.top_logprobs!;
    assert.equal(et[0], null);
    for (const t of et.slice(1, ids.length)) assert.ok(Object.keys(t!).length >= 2, JSON.stringify(t));
    const plain = await client.completions.create({ model: 'x', prompt: [g.prefill.map((t) => t.id)], max_tokens: 1, temperature: 0, logprobs: 2 });
    const want = plain.choices[0]!.logprobs!.top_logprobs![0]!;
    const got = et[g.prefill.length]!;
    for (const [text, lp] of Object.entries(want)) assert.ok(close(got[text]!, lp), `${JSON.stringify(text)}: ${got[text]} vs ${lp}`);

    const best = await client.completions.create({ model: 'x', prompt: 'Once upon a time', max_tokens: 4, temperature: 1, best_of: 3, n: 1, seed: 3 });
    assert.equal(best.choices.length, 1);
    assert.equal(best.usage!.completion_tokens, 12);
    await assert.rejects(
      client.completions.create({ model: 'x', prompt: 'a', suffix: 'b', max_tokens: 2 }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'suffix',
    );
  });

  test('TGI: decoder_input_details prefill, top_n_tokens, best_of sequences, timing headers', async () => {
    const res = await postJson(`${cluster.url}/generate`, {
      inputs: 'Once upon a time',
      parameters: { max_new_tokens: 4, decoder_input_details: true, top_n_tokens: 2 },
    });
    assert.equal(res.status, 200);
    for (const h of [
      'x-compute-type',
      'x-compute-time',
      'x-compute-characters',
      'x-total-time',
      'x-validation-time',
      'x-queue-time',
      'x-inference-time',
      'x-time-per-token',
      'x-prompt-tokens',
      'x-generated-tokens',
      'x-request-id',
    ]) {
      assert.ok(res.headers.get(h) !== null, `header ${h}`);
    }
    assert.equal(res.headers.get('x-compute-characters'), String('Once upon a time'.length));
    assert.equal(res.headers.get('x-generated-tokens'), '4');
    const body = (await res.json()) as {
      details: { prefill: { id: number; logprob: number | null }[]; tokens: { logprob: number }[]; top_tokens: { logprob: number }[][] };
    };
    const prefill = body.details.prefill;
    assert.equal(String(prefill.length), res.headers.get('x-prompt-tokens'));
    assert.equal(prefill[0]!.logprob, null);
    assert.ok(prefill.slice(1).every((t) => typeof t.logprob === 'number' && t.logprob <= 0));
    assert.equal(body.details.top_tokens.length, 4);
    body.details.top_tokens.forEach((top, i) => {
      assert.equal(top.length, 2);
      assert.ok(close(top[0]!.logprob, body.details.tokens[i]!.logprob)); // greedy = top 1
    });

    const bo = (await (
      await postJson(`${cluster.url}/generate`, { inputs: 'Once', parameters: { max_new_tokens: 5, best_of: 2, do_sample: true, details: true } })
    ).json()) as {
      details: { tokens: { logprob: number }[]; best_of_sequences: { tokens: { logprob: number }[]; seed: number }[] };
    };
    assert.equal(bo.details.best_of_sequences.length, 1);
    const sum = (t: { logprob: number }[]) => t.reduce((s, x) => s + x.logprob, 0);
    assert.ok(sum(bo.details.tokens) >= sum(bo.details.best_of_sequences[0]!.tokens) - 1e-6, 'the returned sequence is the more likely one');
    const greedyBestOf = await postJson(`${cluster.url}/generate`, { inputs: 'Once', parameters: { max_new_tokens: 2, best_of: 2 } });
    assert.equal(greedyBestOf.status, 422);
    const watermark = await postJson(`${cluster.url}/generate`, { inputs: 'Once', parameters: { watermark: true } });
    assert.equal(watermark.status, 422);
  });

  test('TGI stream: x-compute-type header, top_tokens per event; decoder_input_details and best_of refused on streams', async () => {
    const res = await postJson(`${cluster.url}/generate_stream`, { inputs: 'Once', parameters: { max_new_tokens: 3, top_n_tokens: 2 } });
    assert.ok(res.headers.get('x-compute-type') !== null);
    const events = (await readSse(res)).map((d) => JSON.parse(d) as { token: { id: number }; top_tokens: unknown[]; generated_text: string | null });
    assert.equal(events.length, 3);
    assert.ok(events.every((e) => e.top_tokens.length === 2));
    assert.equal(typeof events.at(-1)!.generated_text, 'string');
    for (const parameters of [{ decoder_input_details: true }, { best_of: 2, do_sample: true }]) {
      assert.equal((await postJson(`${cluster.url}/generate_stream`, { inputs: 'Once', parameters })).status, 422);
    }
  });
});
