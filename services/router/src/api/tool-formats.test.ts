// Tool calls per family: format chosen from the real templates, constraints the engine accepts, parsers (whole and streamed at every split).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ConstraintCompiler, Xgrammar } from '@tessera/grammar';
import { ChatTemplate } from '@tessera/tokenization';
import { ValidationError } from '../errors.ts';
import { type ToolDelta, type ToolFormat, toolFormatOf } from './tool-formats.ts';
import { messagesForTemplate, type ToolRequest, toolsOf } from './tools.ts';

const fixture = (name: string) => fs.readFileSync(new URL(`../../../../packages/tokenization/fixtures/chat-templates/${name}.jinja`, import.meta.url), 'utf8');
const QWEN3 = fixture('qwen3');
const MISTRAL = fixture('mistral-nemo');
const LLAMA31 = fixture('llama3.1-json-tools');

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] } }, required: ['city', 'unit'] },
  },
};
const time = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', maxLength: 8 } }, required: ['zone'] } },
};
const request = (extra: Record<string, unknown> = {}): ToolRequest => toolsOf({ tools: [weather, time], ...extra }).request!;

/** Every delta of `text` fed in pieces of `size` characters, then end(). */
function streamed(format: ToolFormat, text: string, size: number): { deltas: ToolDelta[]; calls: number } {
  const p = format.parser();
  const deltas: ToolDelta[] = [];
  for (let i = 0; i < text.length; i += size) deltas.push(...p.push(text.slice(i, i + size)));
  deltas.push(...p.end());
  return { deltas, calls: p.calls.length };
}

/** Assembles deltas as the OpenAI SDKs do: content concatenated, each call's arguments concatenated. */
function assemble(deltas: ToolDelta[]) {
  let content = '';
  const calls: { name: string; arguments: string }[] = [];
  for (const d of deltas) {
    if (d.kind === 'content') content += d.text;
    else if (d.kind === 'call') calls[d.index] = { name: d.name, arguments: '' };
    else calls[d.index]!.arguments += d.piece;
  }
  return { content, calls };
}

test('the format follows the template: Qwen3 → hermes, Mistral → mistral, Llama 3.1 → llama3, none → hermes', () => {
  assert.equal(toolFormatOf(QWEN3).name, 'hermes');
  assert.equal(toolFormatOf(MISTRAL).name, 'mistral');
  assert.equal(toolFormatOf(LLAMA31).name, 'llama3');
  assert.equal(toolFormatOf(null).name, 'hermes');
});

const cases: [string, ToolFormat, string, { content: string; calls: { name: string; arguments: string }[] }][] = [
  [
    'hermes, text then two calls',
    toolFormatOf(QWEN3),
    'Let me check.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {"zone": "CET"}}\n</tool_call>',
    {
      content: 'Let me check.\n',
      calls: [
        { name: 'get_weather', arguments: '{"city": "Paris", "unit": "c"}' },
        { name: 'get_time', arguments: '{"zone": "CET"}' },
      ],
    },
  ],
  ['hermes, a "<" that is no tag', toolFormatOf(QWEN3), 'a < b and <tool but no call', { content: 'a < b and <tool but no call', calls: [] }],
  [
    'llama3, one call',
    toolFormatOf(LLAMA31),
    '{"name": "get_time", "parameters": {"zone": "UTC"}}',
    { content: '', calls: [{ name: 'get_time', arguments: '{"zone": "UTC"}' }] },
  ],
  ['llama3, plain text', toolFormatOf(LLAMA31), 'It is sunny.', { content: 'It is sunny.', calls: [] }],
  [
    'mistral, an array of two',
    toolFormatOf(MISTRAL),
    '[{"name": "get_time", "arguments": {"zone": "UTC"}}, {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "f"}}]',
    {
      content: '',
      calls: [
        { name: 'get_time', arguments: '{"zone":"UTC"}' },
        { name: 'get_weather', arguments: '{"city":"Oslo","unit":"f"}' },
      ],
    },
  ],
  ['mistral, a bracket that is not a call', toolFormatOf(MISTRAL), '[citation needed]', { content: '[citation needed]', calls: [] }],
];

for (const [name, format, text, expected] of cases) {
  test(`parser, ${name}: the same calls whole and streamed in pieces of 1..9 characters`, () => {
    for (const size of [text.length, 1, 2, 3, 5, 7, 9]) {
      const { deltas, calls } = streamed(format, text, size);
      assert.deepEqual(assemble(deltas), expected, `pieces of ${size}`);
      assert.equal(calls, expected.calls.length);
      for (const c of expected.calls) JSON.parse(c.arguments);
    }
  });
}

test('a hermes call cut by max_tokens streams the arguments it has; the header comes as soon as the name is known', () => {
  const p = toolFormatOf(QWEN3).parser();
  const first = p.push('<tool_call>\n{"name": "get_weather", "arguments": {"ci');
  assert.deepEqual(
    first.map((d) => d.kind),
    ['call'],
  );
  const rest = [...p.push('ty": "Par'), ...p.end()];
  assert.equal(assemble([...first, ...rest]).calls[0]!.arguments, '{"city": "Par');
  assert.equal(p.calls.length, 0, 'an unfinished call is not a call');
});

test('constraints per format and tool_choice compile, and refuse what the schema forbids', async () => {
  const compiler = new ConstraintCompiler();
  const xg = new Xgrammar();
  const accepts = async (c: unknown, text: string) => {
    const g = await xg.lib.Grammar.fromStructuralTag(await compiler.wire(c as never));
    const ok = await xg.lib.Testings.isGrammarAcceptString(g, text);
    g.dispose();
    return ok;
  };
  const hermes = toolFormatOf(QWEN3);
  const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}\n</tool_call>';
  const badCall = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "kelvin"}}\n</tool_call>';
  assert.ok(await accepts(hermes.constraint(request({ tool_choice: 'required' })), call));
  assert.ok(!(await accepts(hermes.constraint(request({ tool_choice: 'required' })), badCall)));
  assert.ok(!(await accepts(hermes.constraint(request({ tool_choice: 'required' })), 'Just text.')));
  assert.ok(await accepts(hermes.constraint(request()), `Sure. ${call}`), 'auto: text, then a call');
  assert.ok(await accepts(hermes.constraint(request()), 'No call needed.'), 'auto: text alone');
  const named = hermes.constraint(request({ tool_choice: { type: 'function', function: { name: 'get_time' } } }));
  assert.ok(!(await accepts(named, call)), 'named: another function is refused');
  assert.ok(await accepts(named, '<tool_call>\n{"name": "get_time", "arguments": {"zone": "UTC"}}\n</tool_call>'));
  const two = `${call}\n${call}`;
  assert.ok(await accepts(hermes.constraint(request({ tool_choice: 'required' })), two), 'parallel calls');
  assert.ok(!(await accepts(hermes.constraint(request({ tool_choice: 'required', parallel_tool_calls: false })), two)), 'parallel_tool_calls: false → one');
  const llama = toolFormatOf(LLAMA31);
  assert.ok(await accepts(llama.constraint(request({ tool_choice: 'required' })), '{"name": "get_time", "parameters": {"zone": "UTC"}}'));
  const mistral = toolFormatOf(MISTRAL);
  assert.equal(mistral.constraint(request()), null, 'mistral auto: parsed only ([TOOL_CALLS] is a special token)');
  assert.ok(
    await accepts(
      mistral.constraint(request({ tool_choice: 'required' })),
      '[{"name": "get_time", "arguments": {"zone": "UTC"}}, {"name": "get_time", "arguments": {"zone": "CET"}}]',
    ),
  );
});

test('tools, tool_choice and parallel_tool_calls are checked, naming the field', () => {
  const fails = (body: Record<string, unknown>, param: string) =>
    assert.throws(
      () => toolsOf(body),
      (e: unknown) => e instanceof ValidationError && e.param === param,
      JSON.stringify(body),
    );
  fails({ tools: 'x' }, 'tools');
  fails({ tools: [{ type: 'function' }] }, 'tools[0]');
  fails({ tools: [{ type: 'function', function: { name: 'bad name' } }] }, 'tools[0].function.name');
  fails({ tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] }, 'tools[0].function.parameters');
  fails({ tools: [weather, weather] }, 'tools[1].function.name');
  fails({ tools: [weather], tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice');
  fails({ tools: [weather], tool_choice: 'sometimes' }, 'tool_choice');
  fails({ tools: [weather], parallel_tool_calls: 'yes' }, 'parallel_tool_calls');
  fails({ tool_choice: 'required' }, 'tool_choice');
  assert.deepEqual(toolsOf({ tools: [weather], tool_choice: 'none' }), { request: null, render: [weather] });
  assert.equal(toolsOf({ tools: [] }).request, null);
  assert.deepEqual(toolsOf({ tools: [weather] }).request?.choice, 'auto');
});

const conversation = messagesForTemplate([
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'abcdefgh1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "c"}' } }],
  },
  { role: 'tool', tool_call_id: 'abcdefgh1', content: '{"temp": 21}' },
]) as never[];

test('real templates render tools, an assistant tool call (arguments given as a JSON string) and the tool result', () => {
  const qwen = new ChatTemplate(QWEN3).render(conversation, { extra: { tools: [weather] } });
  assert.match(qwen, /<tools>\n\{"type": "function", "function": \{"name": "get_weather"/);
  assert.match(qwen, /<tool_call>\n\{"name": "get_weather", "arguments": \{"city": "Paris", "unit": "c"\}\}\n<\/tool_call>/);
  assert.match(qwen, /<tool_response>\n\{"temp": 21\}\n<\/tool_response>/);
  const llama = new ChatTemplate(LLAMA31).render(conversation, { extra: { tools: [weather] }, bosToken: '<|begin_of_text|>' });
  assert.match(llama, /"name": "get_weather"/);
  assert.match(llama, /\{"name": "get_weather", "parameters": \{"city": "Paris", "unit": "c"\}\}<\|eot_id\|>/);
  assert.match(llama, /<\|start_header_id\|>ipython<\|end_header_id\|>\n\n\{"output": "\{\\"temp\\": 21\}"\}/);
  const mistral = new ChatTemplate(MISTRAL).render(conversation, { extra: { tools: [weather] }, eosToken: '</s>' });
  assert.match(mistral, /\[AVAILABLE_TOOLS\]/);
  assert.match(mistral, /\[TOOL_CALLS\]\[\{"name": "get_weather", "arguments": \{"city": "Paris", "unit": "c"\}, "id": "abcdefgh1"\}\]<\/s>/);
  assert.match(mistral, /\[TOOL_RESULTS\]/);
});
