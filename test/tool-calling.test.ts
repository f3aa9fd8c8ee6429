// OpenAI tool calling end to end with the official `openai` client on the generated model: Qwen3's real chat template (Hermes <tool_call>), then Meta's Llama 3.1 (JSON) and Mistral NeMo ([TOOL_CALLS]) — constrained calls that validate, streamed calls assembled by the client's own helper.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { chatTemplateFixturePath } from '@tessera/testing';
import { type Cluster, startCluster } from './helpers/cluster.ts';
import { postJson } from './helpers/sse.ts';

const QWEN3_TEMPLATE = chatTemplateFixturePath('qwen3');
const ajv = new Ajv({ strict: false });

const weatherParams = {
  type: 'object',
  properties: {
    city: { type: 'string', maxLength: 10 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
  },
  required: ['city', 'unit', 'days'],
};
const timeParams = { type: 'object', properties: { zone: { type: 'string', pattern: '^[A-Z]{3}$' } }, required: ['zone'] };
const tools: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Forecast for a city', parameters: weatherParams } },
  { type: 'function', function: { name: 'get_time', description: 'Time in a zone', parameters: timeParams } },
];
const schemas: Record<string, object> = { get_weather: weatherParams, get_time: timeParams };
const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris for the next 3 days?' }];

/** Every call names a tool and its arguments are a JSON object the tool's schema accepts. */
function assertValidCalls(calls: OpenAI.ChatCompletionMessageToolCall[] | undefined, what: string, id = /^call_[0-9a-f]{24}$/) {
  assert.ok(calls !== undefined && calls.length > 0, `${what}: tool calls`);
  for (const c of calls) {
    assert.equal(c.type, 'function');
    assert.match(c.id, id);
    const fn = (c as OpenAI.ChatCompletionMessageFunctionToolCall).function;
    const schema = schemas[fn.name];
    assert.ok(schema !== undefined, `${what}: unknown tool ${fn.name}`);
    const args = JSON.parse(fn.arguments);
    assert.ok(ajv.validate(schema, args), `${what}: ${fn.arguments}: ${ajv.errorsText()}`);
  }
}

describe('tool calling through the openai client (Qwen3 template, generated model)', () => {
  let cluster: Cluster;
  let client: OpenAI;
  before(async () => {
    cluster = await startCluster(['--chat-template', QWEN3_TEMPLATE]);
    client = new OpenAI({ baseURL: `${cluster.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => cluster?.stop());

  test('tool_choice required: every seed and temperature gives calls that validate, finish_reason tool_calls', async () => {
    const runs = [0, 0.8, 1.3].flatMap((temperature) => [1, 2, 3].map((seed) => ({ temperature, seed })));
    await Promise.all(
      runs.map(async ({ temperature, seed }) => {
        const res = await client.chat.completions.create({
          model: 'tessera',
          messages,
          tools,
          tool_choice: 'required',
          parallel_tool_calls: false,
          max_tokens: 200,
          temperature,
          seed,
        });
        const choice = res.choices[0]!;
        assert.equal(choice.finish_reason, 'tool_calls', `t=${temperature} seed=${seed}`);
        assertValidCalls(choice.message.tool_calls, `t=${temperature} seed=${seed}`);
        assert.equal(choice.message.tool_calls!.length, 1, 'parallel_tool_calls false: one call');
      }),
    );
  });

  test('a named tool_choice calls that function', async () => {
    for (const seed of [1, 2, 3]) {
      const res = await client.chat.completions.create({
        model: 'tessera',
        messages,
        tools,
        tool_choice: { type: 'function', function: { name: 'get_time' } },
        max_tokens: 200,
        temperature: 1,
        seed,
      });
      assertValidCalls(res.choices[0]!.message.tool_calls, `seed ${seed}`);
      assert.deepEqual(
        res.choices[0]!.message.tool_calls!.map((c) => (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name),
        ['get_time'],
      );
    }
  });

  test('streamed calls, assembled by the client helper, equal the non-streamed ones at temperature 0', async () => {
    const params = { model: 'tessera', messages, tools, tool_choice: 'required' as const, parallel_tool_calls: false, max_tokens: 300, temperature: 0 };
    const whole = await client.chat.completions.create(params);
    const stream = client.chat.completions.stream(params);
    const final = await stream.finalChatCompletion();
    const strip = (calls: OpenAI.ChatCompletionMessageToolCall[] | undefined) =>
      (calls ?? []).map((c) => ({
        name: (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name,
        args: (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments,
      }));
    assertValidCalls(final.choices[0]!.message.tool_calls, 'streamed');
    assert.deepEqual(strip(final.choices[0]!.message.tool_calls), strip(whole.choices[0]!.message.tool_calls));
    assert.equal(final.choices[0]!.finish_reason, whole.choices[0]!.finish_reason);
    // The raw chunks: the header (id, type, name) once per call, then argument pieces.
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ ...params, stream: true })) chunks.push(c);
    const headers = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).filter((d) => d.id !== undefined);
    assert.equal(headers.length, whole.choices[0]!.message.tool_calls!.length);
    assert.ok(headers.every((h) => h.type === 'function' && h.function?.arguments === ''));
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason ?? chunks.at(-2)?.choices[0]?.finish_reason, 'tool_calls');
  });

  test('tool_choice auto: text, or calls that validate; none: text only', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const res = await client.chat.completions.create({ model: 'tessera', messages, tools, max_tokens: 120, temperature: 1, seed });
      const m = res.choices[0]!.message;
      if (m.tool_calls !== undefined && m.tool_calls.length > 0) {
        assertValidCalls(m.tool_calls, `auto seed ${seed}`);
        assert.equal(res.choices[0]!.finish_reason, 'tool_calls');
      } else assert.equal(typeof m.content, 'string');
    }
    const none = await client.chat.completions.create({ model: 'tessera', messages, tools, tool_choice: 'none', max_tokens: 20, temperature: 0 });
    assert.equal(none.choices[0]!.message.tool_calls, undefined);
    assert.ok(['stop', 'length'].includes(none.choices[0]!.finish_reason));
  });

  test('a conversation with an assistant tool call and the tool result renders and answers', async () => {
    const res = await client.chat.completions.create({
      model: 'tessera',
      tools,
      max_tokens: 10,
      temperature: 0,
      messages: [
        ...messages,
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "celsius", "days": 3}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"forecast": "sun"}' },
      ],
    });
    assert.ok(['stop', 'length', 'tool_calls'].includes(res.choices[0]!.finish_reason));
  });

  test('parallel calls (required, parallel_tool_calls default): the newline between them is not content', async () => {
    let most = 0;
    for (const seed of [1, 2, 3, 4]) {
      const res = await client.chat.completions.create({ model: 'tessera', messages, tools, tool_choice: 'required', max_tokens: 400, temperature: 1.2, seed });
      const choice = res.choices[0]!;
      if (choice.finish_reason === 'length') continue;
      assertValidCalls(choice.message.tool_calls, `seed ${seed}`);
      assert.equal(choice.message.content, null, `seed ${seed}: ${choice.message.tool_calls!.length} calls and no content`);
      most = Math.max(most, choice.message.tool_calls!.length);
    }
    assert.ok(most >= 2, 'some seed made several calls (seeded sampling on the generated model)');
  });

  test('TGI forms (huggingface_hub): tool_choice as a bare function name or {"function": {"name"}}, a schema under `arguments`', async () => {
    const tgiTools = tools.map((t) => {
      const { parameters, ...rest } = (t as OpenAI.ChatCompletionFunctionTool).function;
      return { type: 'function', function: { ...rest, arguments: parameters } };
    });
    for (const tool_choice of ['get_time', { function: { name: 'get_time' } }]) {
      const res = await postJson(`${cluster.url}/v1/chat/completions`, { model: 'tessera', messages, tools: tgiTools, tool_choice, max_tokens: 200, seed: 5 });
      const body = (await res.json()) as OpenAI.ChatCompletion;
      assert.equal(res.status, 200, JSON.stringify(body));
      assertValidCalls(body.choices[0]!.message.tool_calls, JSON.stringify(tool_choice));
      assert.equal((body.choices[0]!.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall).function.name, 'get_time');
    }
  });

  test('refusals name the field: unknown tool in tool_choice, malformed tools, tools with response_format', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ tools, tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice'],
      [{ tools: [{ type: 'function', function: { name: 'has space' } }] }, 'tools[0].function.name'],
      [{ tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'objectx' } } }], tool_choice: 'required' }, 'tools'],
      [{ tools, tool_choice: 'required', response_format: { type: 'json_object' } }, 'tools'],
    ];
    for (const [extra, param] of cases) {
      const res = await postJson(`${cluster.url}/v1/chat/completions`, { model: 'tessera', messages, max_tokens: 5, ...extra });
      const body = await res.json();
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(body.error.param, param, JSON.stringify(body));
    }
  });
});

/** The other families' formats on the same generated model: only the chat template differs. */
for (const [family, template, id] of [
  ["Llama 3.1 (Meta's template, JSON calls)", 'llama3.1', /^call_[0-9a-f]{24}$/],
  ['Mistral NeMo ([TOOL_CALLS] array)', 'mistral-nemo', /^[A-Za-z0-9]{9}$/],
] as const) {
  describe(`tool calling through the openai client (${family}, generated model)`, () => {
    let cluster: Cluster;
    let client: OpenAI;
    before(async () => {
      cluster = await startCluster(['--chat-template', chatTemplateFixturePath(template)]);
      client = new OpenAI({ baseURL: `${cluster.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    });
    after(() => cluster?.stop());

    test('required and named choices give calls that validate across seeds and temperatures', async () => {
      const runs = [0, 1].flatMap((temperature) => [1, 2].map((seed) => ({ temperature, seed })));
      await Promise.all(
        runs.map(async ({ temperature, seed }) => {
          const what = `t=${temperature} seed=${seed}`;
          const res = await client.chat.completions.create({ model: 'tessera', messages, tools, tool_choice: 'required', max_tokens: 300, temperature, seed });
          assert.equal(res.choices[0]!.finish_reason, 'tool_calls', what);
          assertValidCalls(res.choices[0]!.message.tool_calls, what, id);
          const named = await client.chat.completions.create({
            model: 'tessera',
            messages,
            tools,
            tool_choice: { type: 'function', function: { name: 'get_weather' } },
            max_tokens: 300,
            temperature,
            seed,
          });
          assertValidCalls(named.choices[0]!.message.tool_calls, `named ${what}`, id);
          assert.deepEqual(
            named.choices[0]!.message.tool_calls!.map((c) => (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name),
            ['get_weather'],
          );
        }),
      );
    });

    test('streamed calls come as a header then several argument pieces, and the client helper assembles the non-streamed calls', async () => {
      const params = { model: 'tessera', messages, tools, tool_choice: 'required' as const, parallel_tool_calls: false, max_tokens: 300, temperature: 0 };
      const whole = await client.chat.completions.create(params);
      const final = await client.chat.completions.stream(params).finalChatCompletion();
      const strip = (m: OpenAI.ChatCompletionMessage) =>
        (m.tool_calls ?? []).map((c) => [
          (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.name,
          (c as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments,
        ]);
      assertValidCalls(final.choices[0]!.message.tool_calls, 'streamed', id);
      assert.deepEqual(strip(final.choices[0]!.message), strip(whole.choices[0]!.message));
      assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      for await (const c of await client.chat.completions.create({ ...params, stream: true })) chunks.push(c);
      const pieces = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
      assert.equal(pieces.filter((p) => p.id !== undefined).length, 1, 'one header');
      assert.ok(pieces.filter((p) => p.id === undefined).length > 1, 'the arguments arrive in several pieces, not at the end');
      assert.equal(chunks.flatMap((c) => c.choices[0]?.delta.content ?? '').join(''), '', 'no content');
    });
  });
}
