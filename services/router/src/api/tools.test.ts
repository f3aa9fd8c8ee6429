// Tools, request side: tools/tool_choice/parallel_tool_calls checked naming the field (OpenAI's and TGI's forms), and conversations with tool calls rendered through the real templates of Qwen2.5, Qwen3, Llama 3.1 and Mistral NeMo.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatTemplateFixture } from '@tessera/testing';
import { ChatTemplate } from '@tessera/tokenization';
import { ValidationError } from '../errors.ts';
import { messagesForTemplate, toolsOf } from './tools.ts';
import { weather } from './tools.test-helper.ts';

const fixture = (name: string) => new ChatTemplate(chatTemplateFixture(name));

test('tools, tool_choice and parallel_tool_calls are checked, naming the field', () => {
  const fails = (body: Record<string, unknown>, param: string) =>
    assert.throws(
      () => toolsOf(body),
      (e: unknown) => e instanceof ValidationError && e.param === param,
      JSON.stringify(body),
    );
  fails({ tools: 'x' }, 'tools');
  fails({ tools: [{ type: 'function' }] }, 'tools[0]');
  fails({ tools: [{ type: 'retrieval', function: { name: 'f' } }] }, 'tools[0]');
  fails({ tools: [{ type: 'function', function: { name: 'bad name' } }] }, 'tools[0].function.name');
  fails({ tools: [{ type: 'function', function: { name: 'f', description: 3 } }] }, 'tools[0].function.description');
  fails({ tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] }, 'tools[0].function.parameters');
  fails({ tools: [weather, weather] }, 'tools[1].function.name');
  fails({ tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice');
  fails({ tools: [weather], tool_choice: { type: 'function' } }, 'tool_choice');
  fails({ tools: [weather], tool_choice: 'sometimes' }, 'tool_choice');
  fails({ tools: [weather], parallel_tool_calls: 'yes' }, 'parallel_tool_calls');
  fails({ tool_choice: 'required' }, 'tool_choice');
  fails({ tools: [], tool_choice: 'required' }, 'tool_choice');
  fails({ tools: [], tool_choice: { type: 'function', function: { name: 'get_weather' } } }, 'tool_choice');
  assert.deepEqual(toolsOf({ tools: [weather], tool_choice: 'none' }), { request: null, render: [weather] });
  assert.equal(toolsOf({ tools: [] }).request, null);
  assert.equal(toolsOf({ tools: [], tool_choice: 'auto' }).request, null);
  assert.deepEqual(toolsOf({ tools: [weather] }).request?.choice, 'auto');
  assert.equal(toolsOf({ tools: [weather] }).request?.parallel, true);
  assert.equal(toolsOf({ tools: [weather], parallel_tool_calls: false }).request?.parallel, false);
});

test('TGI forms: a bare function name or {"function": {"name"}} as tool_choice, a function schema under `arguments`', () => {
  assert.deepEqual(toolsOf({ tools: [weather], tool_choice: 'get_weather' }).request?.choice, { name: 'get_weather' });
  assert.deepEqual(toolsOf({ tools: [weather], tool_choice: { function: { name: 'get_weather' } } }).request?.choice, { name: 'get_weather' });
  const tgiTool = { type: 'function', function: { name: 'get_weather', arguments: weather.function.parameters } };
  const { request, render } = toolsOf({ tools: [tgiTool] });
  assert.deepEqual(request?.tools[0]?.parameters, weather.function.parameters, 'the schema constrains the call');
  assert.deepEqual(render, [{ type: 'function', function: { name: 'get_weather', parameters: weather.function.parameters } }], 'templates read `parameters`');
});

const conversation = messagesForTemplate([
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'abcdefgh1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "c"}' } }],
  },
  { role: 'tool', tool_call_id: 'abcdefgh1', name: 'get_weather', content: '{"temp": 21}' },
]) as never[];

test('messagesForTemplate: JSON-string arguments become objects, null content beside calls becomes "", the rest is untouched', () => {
  const [user, assistant, tool] = conversation as Record<string, unknown>[];
  assert.deepEqual(user, { role: 'user', content: 'Weather in Paris?' });
  assert.equal(assistant!.content, '');
  assert.deepEqual((assistant!.tool_calls as { function: unknown }[])[0]?.function, { name: 'get_weather', arguments: { city: 'Paris', unit: 'c' } });
  assert.deepEqual(tool, { role: 'tool', tool_call_id: 'abcdefgh1', name: 'get_weather', content: '{"temp": 21}' });
  const notJson = messagesForTemplate([{ role: 'assistant', tool_calls: [{ type: 'function', function: { name: 'f', arguments: 'not json' } }] }]) as {
    tool_calls: { function: { arguments: unknown } }[];
  }[];
  assert.equal(notJson[0]?.tool_calls[0]?.function.arguments, 'not json', 'arguments that do not parse pass as given');
});

test('Qwen2.5 and Qwen3 (Hermes): tools in <tools>, the call in <tool_call>, the result in <tool_response>', () => {
  for (const name of ['qwen2.5', 'qwen3']) {
    const out = fixture(name).render(conversation, { extra: { tools: [weather] }, addGenerationPrompt: true });
    assert.match(out, /<tools>\n\{"type": "function", "function": \{"name": "get_weather", "description": "Weather in a city", "parameters": \{/, name);
    assert.match(out, /<tool_call>\n\{"name": "get_weather", "arguments": \{"city": "Paris", "unit": "c"\}\}\n<\/tool_call>/, name);
    assert.match(out, /<\|im_start\|>user\n<tool_response>\n\{"temp": 21\}\n<\/tool_response><\|im_end\|>\n<\|im_start\|>assistant\n$/, name);
  }
  assert.match(fixture('qwen2.5').render(conversation, { extra: { tools: [weather] } }), /^<\|im_start\|>system\nYou are Qwen, created by Alibaba Cloud/);
});

test('Llama 3.1 (Meta\'s template): tools in the first user turn, the call as {"name", "parameters"}, the result as an ipython turn', () => {
  const out = fixture('llama3.1').render(conversation, { extra: { tools: [weather] }, bosToken: '<|begin_of_text|>', addGenerationPrompt: true });
  assert.match(out, /^<\|begin_of_text\|><\|start_header_id\|>system<\|end_header_id\|>\n\nEnvironment: ipython\n/);
  assert.match(out, /Given the following functions[\s\S]*"name": "get_weather",[\s\S]*Weather in Paris\?<\|eot_id\|>/);
  assert.match(
    out,
    /<\|start_header_id\|>assistant<\|end_header_id\|>\n\n\{"name": "get_weather", "parameters": \{"city": "Paris", "unit": "c"\}\}<\|eot_id\|>/,
  );
  // A string content is `iterable` to Jinja, so Meta's template writes it with tojson (transformers does the same).
  assert.match(out, /<\|start_header_id\|>ipython<\|end_header_id\|>\n\n"\{\\"temp\\": 21\}"<\|eot_id\|>/);
  assert.ok(out.endsWith('<|start_header_id|>assistant<|end_header_id|>\n\n'));
  const vllm = fixture('llama3.1-json-tools').render(conversation, { extra: { tools: [weather] }, bosToken: '<|begin_of_text|>' });
  assert.match(vllm, /\{"name": "get_weather", "parameters": \{"city": "Paris", "unit": "c"\}\}<\|eot_id\|>/);
  assert.match(vllm, /<\|start_header_id\|>ipython<\|end_header_id\|>\n\n\{"output": "\{\\"temp\\": 21\}"\}/);
});

test('Mistral NeMo: [AVAILABLE_TOOLS], the call as [TOOL_CALLS][…] with its 9-character id, the result in [TOOL_RESULTS]', () => {
  const out = fixture('mistral-nemo').render(conversation, { extra: { tools: [weather] }, eosToken: '</s>' });
  assert.match(out, /\[AVAILABLE_TOOLS\]\[\{"type": "function", "function": \{"name": "get_weather"/);
  assert.match(out, /\[TOOL_CALLS\]\[\{"name": "get_weather", "arguments": \{"city": "Paris", "unit": "c"\}, "id": "abcdefgh1"\}\]<\/s>/);
  assert.match(out, /\[TOOL_RESULTS\]\{"content": \{"temp": 21\}, "call_id": "abcdefgh1"\}\[\/TOOL_RESULTS\]/);
});
