// The official `openai` npm client, unchanged, against a real router + shard on the generated model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { sharedCluster, type SharedCluster } from './helpers/shared-cluster.ts';

describe('openai npm client ⇄ Tessera', () => {
  let cluster: SharedCluster;
  let client: OpenAI;
  before(async () => {
    cluster = await sharedCluster();
    client = new OpenAI({ baseURL: `${cluster.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => cluster?.stop());

  test('models.list names the served model', async () => {
    const models = await client.models.list();
    assert.equal(models.data.length, 1);
    assert.equal(models.data[0]!.object, 'model');
    assert.ok(models.data[0]!.id.length > 0);
  });

  test('chat completion, non-streamed: id, usage, finish_reason length', async () => {
    const res = await client.chat.completions.create({
      model: 'tgi',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Tell me a story about a cat.' },
      ],
      max_tokens: 12,
      temperature: 0,
    });
    assert.match(res.id, /^chatcmpl-/);
    assert.equal(res.object, 'chat.completion');
    assert.ok(Math.abs(res.created - Date.now() / 1000) < 60);
    const choice = res.choices[0]!;
    assert.equal(choice.message.role, 'assistant');
    assert.equal(typeof choice.message.content, 'string');
    assert.ok(['length', 'stop'].includes(choice.finish_reason));
    assert.equal(res.usage!.completion_tokens <= 12, true);
    if (choice.finish_reason === 'length') assert.equal(res.usage!.completion_tokens, 12);
    assert.equal(res.usage!.total_tokens, res.usage!.prompt_tokens + res.usage!.completion_tokens);
    assert.ok(res.usage!.prompt_tokens > 5);
  });

  test('chat completion, streamed: same text as non-streamed at temperature 0, usage chunk last', async () => {
    const params = { model: 'anything-goes', messages: [{ role: 'user' as const, content: 'Once upon a time' }], max_tokens: 16, temperature: 0 };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let roleSeen = false;
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    const ids = new Set<string>();
    for await (const chunk of stream) {
      ids.add(chunk.id);
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.role === 'assistant') roleSeen = true;
      text += choice.delta.content ?? '';
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    assert.equal(ids.size, 1);
    assert.match([...ids][0]!, /^chatcmpl-/);
    assert.ok(roleSeen);
    assert.equal(text, whole.choices[0]!.message.content);
    assert.equal(finish, whole.choices[0]!.finish_reason);
    assert.deepEqual(usage, whole.usage);
  });

  test('completions, streamed and not, agree; seeded sampling is reproducible', async () => {
    const whole = await client.completions.create({ model: 'x', prompt: 'The little dog', max_tokens: 10, temperature: 0 });
    assert.match(whole.id, /^cmpl-/);
    assert.equal(whole.object, 'text_completion');
    let text = '';
    for await (const chunk of await client.completions.create({ model: 'x', prompt: 'The little dog', max_tokens: 10, temperature: 0, stream: true })) {
      text += chunk.choices[0]?.text ?? '';
    }
    assert.equal(text, whole.choices[0]!.text);
    const a = await client.completions.create({ model: 'x', prompt: 'The little dog', max_tokens: 10, temperature: 1, seed: 42 });
    const b = await client.completions.create({ model: 'x', prompt: 'The little dog', max_tokens: 10, temperature: 1, seed: 42 });
    assert.equal(a.choices[0]!.text, b.choices[0]!.text);
  });

  test('a stop string ends generation and is not returned', async () => {
    const free = await client.completions.create({ model: 'x', prompt: 'Once there was', max_tokens: 24, temperature: 0 });
    const text = free.choices[0]!.text;
    assert.ok(text.length >= 6, `need some text to pick a stop from, got ${JSON.stringify(text)}`);
    const stop = text.slice(3, 6);
    const cut = text.slice(0, text.indexOf(stop));
    const stopped = await client.completions.create({ model: 'x', prompt: 'Once there was', max_tokens: 24, temperature: 0, stop: [stop] });
    assert.equal(stopped.choices[0]!.text, cut);
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
  });

  test('bad parameters come back as OpenAI errors (BadRequestError), not 500s', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'x', messages: [], max_tokens: 4 }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status !== undefined && err.status >= 400 && err.status < 500,
    );
    await assert.rejects(
      client.completions.create({ model: 'x', prompt: 'hi', max_tokens: -3 }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status! >= 400 && err.status! < 500 && /max_tokens/.test(err.message),
    );
  });
});
