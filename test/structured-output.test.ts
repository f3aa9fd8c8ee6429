// Constrained decoding end to end: the official `openai` client's parse() with a zod schema, TGI grammar, vLLM guided_*, refusals, and batch invariance, on a real router + shard.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import path from 'node:path';
import { type Cluster, startCluster } from './helpers/cluster.ts';
import { SKIP_NO_SHARED, sharedPath } from './helpers/paths.ts';
import { sharedCluster, type SharedCluster } from './helpers/shared-cluster.ts';
import { postJson } from './helpers/sse.ts';

const ajv = new Ajv({ strict: false });

/** Bounded strings and numbers: a random model's output must still end, and end valid. */
const Person = z.object({
  name: z.string().max(8),
  age: z.number().int().min(0).max(120),
  pet: z.enum(['cat', 'dog', 'none']),
  tags: z.array(z.string().max(4)).max(2),
  active: z.boolean(),
});

const personSchema = zodResponseFormat(Person, 'person').json_schema.schema!;

describe('structured output on the generated model', () => {
  let cluster: SharedCluster;
  let client: OpenAI;
  before(async () => {
    cluster = await sharedCluster();
    client = new OpenAI({ baseURL: `${cluster.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => cluster?.stop());

  test('chat.completions.parse + zodResponseFormat: every seed and temperature yields an object the schema accepts', async () => {
    const validate = ajv.compile(personSchema);
    const runs = [0, 0.7, 1, 1.5].flatMap((temperature) => [1, 2, 3].map((seed) => ({ temperature, seed })));
    await Promise.all(
      runs.map(async ({ temperature, seed }) => {
        const res = await client.chat.completions.parse({
          model: 'tessera',
          messages: [{ role: 'user', content: 'Describe a person as JSON.' }],
          response_format: zodResponseFormat(Person, 'person'),
          max_tokens: 200,
          temperature,
          seed,
        });
        const choice = res.choices[0]!;
        assert.equal(choice.finish_reason, 'stop', `t=${temperature} seed=${seed}: ${choice.message.content}`);
        assert.ok(choice.message.parsed !== null, `parsed at t=${temperature} seed=${seed}`);
        assert.ok(validate(JSON.parse(choice.message.content!)), `${choice.message.content}: ${ajv.errorsText(validate.errors)}`);
        // One line (strings cannot hold a raw control character): the layout the grammar enforces.
        assert.doesNotMatch(choice.message.content!, /\n|^\s|\s$/);
      }),
    );
  });

  test('streamed json_schema output concatenates to the non-streamed text at temperature 0', async () => {
    const params = {
      model: 'tessera',
      messages: [{ role: 'user' as const, content: 'JSON please' }],
      response_format: { type: 'json_schema' as const, json_schema: { name: 'p', schema: personSchema } },
      max_tokens: 200,
      temperature: 0,
    };
    const whole = await client.chat.completions.create(params);
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...params, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, whole.choices[0]!.message.content);
    assert.ok(ajv.validate(personSchema, JSON.parse(text)));
  });

  test('json_object gives a JSON object; TGI grammar json and regex; vLLM guided_choice and guided_regex', async () => {
    const obj = await client.chat.completions.create({
      model: 'tessera',
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_object' },
      max_tokens: 300,
      temperature: 0,
    });
    if (obj.choices[0]!.finish_reason === 'stop') assert.equal(typeof JSON.parse(obj.choices[0]!.message.content!), 'object');
    else assert.equal(obj.choices[0]!.finish_reason, 'length');

    const schema = { type: 'object', properties: { n: { type: 'integer', minimum: 1, maximum: 9 }, ok: { type: 'boolean' } }, required: ['n', 'ok'] };
    const tgi = await (
      await postJson(`${cluster.url}/generate`, { inputs: 'Hello', parameters: { max_new_tokens: 60, grammar: { type: 'json', value: schema } } })
    ).json();
    assert.ok(ajv.validate(schema, JSON.parse(tgi.generated_text)), tgi.generated_text);

    for (const seed of [1, 2, 3, 4]) {
      const re = await (
        await postJson(`${cluster.url}/generate`, {
          inputs: 'Call',
          parameters: { max_new_tokens: 40, do_sample: true, seed, grammar: { type: 'regex', value: '\\d{3}-[a-c]{2}' } },
        })
      ).json();
      assert.match(re.generated_text, /^\d{3}-[a-c]{2}$/);
      const choice = await client.completions.create({
        model: 'tessera',
        prompt: 'Pick',
        max_tokens: 20,
        seed,
        temperature: 1,
        guided_choice: ['alpha', 'beta', 'gamma'],
      } as never);
      assert.ok(['alpha', 'beta', 'gamma'].includes(choice.choices[0]!.text), choice.choices[0]!.text);
      assert.equal(choice.choices[0]!.finish_reason, 'stop');
    }
  });

  test('a constrained generation cut by max_tokens ends with finish_reason length', async () => {
    const res = await client.chat.completions.create({
      model: 'tessera',
      messages: [{ role: 'user', content: 'x' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'long', schema: { type: 'object', properties: { text: { type: 'string', minLength: 50 } }, required: ['text'] } },
      },
      max_tokens: 4,
    });
    assert.equal(res.choices[0]!.finish_reason, 'length');
    assert.equal(res.usage!.completion_tokens, 4);
    await assert.rejects(
      client.chat.completions.parse({
        model: 'tessera',
        messages: [{ role: 'user', content: 'x' }],
        response_format: zodResponseFormat(Person, 'person'),
        max_tokens: 3,
      }),
      (err: Error) => err.constructor.name === 'LengthFinishReasonError',
    );
  });

  test('refusals: 400 (OpenAI) / 422 (TGI) naming the field, for bad schemas, regexes, grammars that never finish, two constraints', async () => {
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      [
        '/v1/chat/completions',
        { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'objectx' } } } },
        'response_format.json_schema.schema',
        /Unsupported type "objectx"/,
      ],
      [
        '/v1/chat/completions',
        { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', minLength: 3, maxLength: 1 } } } },
        'response_format.json_schema.schema',
        /minLength 3 is greater than maxLength 1/,
      ],
      ['/v1/chat/completions', { response_format: { type: 'xml' } }, 'response_format.type', /must be one of/],
      ['/v1/chat/completions', { guided_regex: '[a-' }, 'guided_regex', /Unclosed/],
      ['/v1/chat/completions', { guided_grammar: 'root ::= "(" root ")"' }, 'guided_grammar', /never finish/],
      ['/v1/chat/completions', { guided_json: { type: 'object' }, response_format: { type: 'json_object' } }, 'guided_json', /cannot be combined/],
      ['/v1/completions', { guided_choice: [] }, 'guided_choice', /non-empty array/],
    ];
    for (const [route, extra, param, message] of cases) {
      const base = route === '/v1/completions' ? { prompt: 'x' } : { messages: [{ role: 'user', content: 'x' }] };
      const res = await postJson(`${cluster.url}${route}`, { model: 'tessera', max_tokens: 5, ...base, ...extra });
      const body = await res.json();
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.error.param, param, JSON.stringify(body));
      assert.match(body.error.message, message);
      assert.equal(body.error.type, 'invalid_request_error');
    }
    const tgi = await postJson(`${cluster.url}/generate`, { inputs: 'x', parameters: { grammar: { type: 'regex', value: '(' } } });
    assert.equal(tgi.status, 422);
    const body = await tgi.json();
    assert.equal(body.error_type, 'validation');
    assert.match(body.error, /grammar\.value/);
  });

  test('batch mix: free greedy requests give the same text beside constrained ones as alone', async () => {
    const prompts = ['Once upon a time', 'The cat', 'In a land far away', 'Hello'];
    const free = (p: string) => client.completions.create({ model: 'tessera', prompt: p, max_tokens: 24, temperature: 0 }).then((r) => r.choices[0]!.text);
    const alone: string[] = [];
    for (const p of prompts) alone.push(await free(p));
    const constrained = prompts.map((p, i) =>
      client.completions.create({
        model: 'tessera',
        prompt: p,
        max_tokens: 100,
        temperature: 1,
        seed: i,
        response_format: { type: 'json_schema', json_schema: { name: 'p', schema: personSchema } },
      } as never),
    );
    const mixed = await Promise.all([...prompts.map(free), ...constrained]);
    const metrics = await (await fetch(`${cluster.url}/metrics`)).text();
    const masks = /^tessera_shard_grammar_mask_duration_seconds_count\{[^}]*method="decode"[^}]*\} (\d+)/m.exec(metrics);
    assert.ok(masks !== null && Number(masks[1]) > 0, 'mask time is observed for decode steps');
    assert.deepEqual(mixed.slice(0, prompts.length), alone);
    for (const r of mixed.slice(prompts.length) as unknown as OpenAI.Completion[])
      assert.ok(ajv.validate(personSchema, JSON.parse(r.choices[0]!.text)), r.choices[0]!.text);
  });
});

const stories = sharedPath('models', 'stories260K');

describe('structured output on stories260K (a real trained model)', { skip: stories ? false : SKIP_NO_SHARED }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(['--model-id', path.join(stories!, 'stories260K.gguf'), '--max-batch-prefill-tokens', '256']);
  });
  after(() => cluster?.stop());

  test('an object with a string and an integer field validates and parses, greedy and sampled', async () => {
    const schema = {
      type: 'object',
      properties: { hero: { type: 'string', maxLength: 12 }, age: { type: 'integer', minimum: 1, maximum: 90 } },
      required: ['hero', 'age'],
    };
    const client = new OpenAI({ baseURL: `${cluster.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    for (const temperature of [0, 0.8]) {
      const res = await client.completions.create({
        model: 'stories',
        prompt: 'Once upon a time, there was a little girl named Lily.',
        max_tokens: 64,
        temperature,
        seed: 3,
        response_format: { type: 'json_schema', json_schema: { name: 'hero', schema } },
      } as never);
      const text = (res as unknown as OpenAI.Completion).choices[0]!.text;
      const value = JSON.parse(text);
      assert.ok(ajv.validate(schema, value), `${text}: ${ajv.errorsText()}`);
      assert.equal(typeof value.hero, 'string');
    }
  });
});
