// Tool-call parsers: the same content and calls whether the text comes whole or in pieces split anywhere; headers as soon as the name is known; broken formats read as content.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonCallsParser, mistralId, TaggedCallParser, type ToolCallParser, type ToolDelta } from './tool-call-parsers.ts';

const hermes = () => new TaggedCallParser('<tool_call>', '</tool_call>', 'arguments');
const llama3 = () => new JsonCallsParser('{', 'parameters');
const mistral = () => new JsonCallsParser('[', 'arguments', mistralId);

/** Every delta of `text` fed in pieces of `size` characters, then end(). */
function streamed(p: ToolCallParser, text: string, size: number): ToolDelta[] {
  const deltas: ToolDelta[] = [];
  for (let i = 0; i < text.length; i += size) deltas.push(...p.push(text.slice(i, i + size)));
  deltas.push(...p.end());
  return deltas;
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

type Expected = { content: string; calls: { name: string; arguments: string }[]; malformed?: boolean };
const cases: [string, () => ToolCallParser, string, Expected][] = [
  [
    'hermes, text then two calls (the newline between them is not content)',
    hermes,
    'Let me check.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {"zone": "CET"}}\n</tool_call>\n',
    {
      content: 'Let me check.',
      calls: [
        { name: 'get_weather', arguments: '{"city": "Paris", "unit": "c"}' },
        { name: 'get_time', arguments: '{"zone": "CET"}' },
      ],
    },
  ],
  [
    'hermes, text after a call is content',
    hermes,
    '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>\n\nDone.',
    { content: '\n\nDone.', calls: [{ name: 'f', arguments: '{}' }] },
  ],
  ['hermes, a "<" that is no tag', hermes, 'a < b and <tool but no call', { content: 'a < b and <tool but no call', calls: [] }],
  [
    'hermes, a tag around something else is content',
    hermes,
    'x <tool_call>not json</tool_call> y',
    { content: 'x <tool_call>not json</tool_call> y', calls: [] },
  ],
  [
    'hermes, strings holding braces, quotes and the closing tag text',
    hermes,
    '<tool_call>\n{"name": "echo", "arguments": {"s": "}\\" </tool_call", "n": {"a": [1, {"b": 2}]}}}\n</tool_call>',
    { content: '', calls: [{ name: 'echo', arguments: '{"s": "}\\" </tool_call", "n": {"a": [1, {"b": 2}]}}' }] },
  ],
  [
    'llama3, one call',
    llama3,
    '{"name": "get_time", "parameters": {"zone": "UTC"}}',
    { content: '', calls: [{ name: 'get_time', arguments: '{"zone": "UTC"}' }] },
  ],
  [
    'llama3, two calls separated by ";" and by a newline, strings holding brackets',
    llama3,
    '{"name": "a", "parameters": {"s": "{[}"}}; {"name": "b", "parameters": {}}\n{"name": "c", "parameters": {"n": [1, 2]}}',
    {
      content: '',
      calls: [
        { name: 'a', arguments: '{"s": "{[}"}' },
        { name: 'b', arguments: '{}' },
        { name: 'c', arguments: '{"n": [1, 2]}' },
      ],
    },
  ],
  ['llama3, plain text', llama3, 'It is sunny.', { content: 'It is sunny.', calls: [] }],
  ['llama3, JSON that is no call is content', llama3, '{"answer": 42}', { content: '{"answer": 42}', calls: [] }],
  [
    'llama3, another key order is read whole',
    llama3,
    '{"parameters": {"zone": "UTC"}, "name": "get_time"}',
    { content: '', calls: [{ name: 'get_time', arguments: '{"zone":"UTC"}' }] },
  ],
  [
    'llama3, text after a call breaks the format',
    llama3,
    '{"name": "f", "parameters": {}} and more',
    { content: 'and more', calls: [{ name: 'f', arguments: '{}' }], malformed: true },
  ],
  [
    'mistral, an array of two',
    mistral,
    '[{"name": "get_time", "arguments": {"zone": "UTC"}}, {"name": "get_weather", "arguments": {"city": "Oslo", "unit": "f"}}]',
    {
      content: '',
      calls: [
        { name: 'get_time', arguments: '{"zone": "UTC"}' },
        { name: 'get_weather', arguments: '{"city": "Oslo", "unit": "f"}' },
      ],
    },
  ],
  [
    'mistral, an "id" after the arguments is skipped',
    mistral,
    ' [{"name": "f", "arguments": {"x": 1}, "id": "abcDEF123"}]',
    { content: '', calls: [{ name: 'f', arguments: '{"x": 1}' }] },
  ],
  ['mistral, a bracket that is not a call', mistral, '[citation needed]', { content: '[citation needed]', calls: [] }],
  // A name that is no JSON string (a raw newline, a bad escape) must not throw mid-stream.
  [
    'hermes, a name with a raw newline is no call',
    hermes,
    '<tool_call>{"name": "a\nb", "arguments": {}}</tool_call>',
    { content: '<tool_call>{"name": "a\nb", "arguments": {}}</tool_call>', calls: [] },
  ],
  ['llama3, a name with a bad escape is content', llama3, '{"name": "a\\x", "parameters": {}}', { content: '{"name": "a\\x", "parameters": {}}', calls: [] }],
  [
    'mistral, a name with a raw newline is content',
    mistral,
    '[{"name": "a\nb", "arguments": {}}]',
    { content: '[{"name": "a\nb", "arguments": {}}]', calls: [] },
  ],
];

for (const [name, parser, text, expected] of cases) {
  test(`parser, ${name}: the same whole and streamed in pieces of 1..9 characters`, () => {
    for (const size of [text.length, 1, 2, 3, 5, 7, 9]) {
      const p = parser();
      const deltas = streamed(p, text, size);
      assert.deepEqual(assemble(deltas), { content: expected.content, calls: expected.calls }, `pieces of ${size}`);
      assert.deepEqual(
        p.calls.map((c) => ({ name: c.name, arguments: c.arguments })),
        expected.calls,
        `pieces of ${size}: completed calls`,
      );
      assert.equal(p.malformed, expected.malformed ?? false);
      for (const c of expected.calls) JSON.parse(c.arguments);
    }
  });
}

test('a hermes call cut by max_tokens streams the arguments it has; the header comes as soon as the name is known', () => {
  const p = hermes();
  const first = p.push('<tool_call>\n{"name": "get_weather", "arguments": {"ci');
  assert.deepEqual(
    first.map((d) => d.kind),
    ['call'],
  );
  const rest = [...p.push('ty": "Par'), ...p.end()];
  assert.equal(assemble([...first, ...rest]).calls[0]!.arguments, '{"city": "Par');
  assert.equal(p.calls.length, 0, 'an unfinished call is not a call');
});

test('llama3 and mistral calls stream: the header once the name is known, the arguments as they come, nothing held to the end', () => {
  for (const [p, head] of [
    [llama3(), '{"name": "get_weather", "parameters": '],
    [mistral(), '[{"name": "get_weather", "arguments": '],
  ] as const) {
    assert.deepEqual(p.push(head.slice(0, 12)), [], 'no header before the name is complete');
    const header = p.push(head.slice(12));
    assert.deepEqual(
      header.map((d) => d.kind),
      [],
      'the header waits for the first character of the arguments',
    );
    const opened = p.push('{"ci');
    assert.equal(opened[0]?.kind, 'call');
    assert.equal(opened[0]?.kind === 'call' && opened[0].name, 'get_weather');
    assert.deepEqual(opened[1], { kind: 'arguments', index: 0, piece: '{"ci' });
    assert.deepEqual(p.push('ty": "Oslo"}'), [{ kind: 'arguments', index: 0, piece: 'ty": "Oslo"}' }]);
    assert.equal(p.calls.length, 0, 'the call is complete only with its closing brace');
    assert.deepEqual(p.push('}'), []);
    assert.equal(p.calls.length, 1);
    assert.deepEqual(p.end(), []);
  }
});

test('mistral ids are 9 letters and digits; hermes and llama3 ids look like OpenAI ones', () => {
  const m = mistral();
  m.push('[{"name": "f", "arguments": {}}]');
  m.end();
  assert.match(m.calls[0]!.id, /^[A-Za-z0-9]{9}$/);
  const l = llama3();
  l.push('{"name": "f", "parameters": {}}');
  assert.match(l.calls[0]!.id, /^call_[0-9a-f]{24}$/);
});

test('a llama3 call cut mid-arguments is not a call; content-looking output after a cut header is not invented', () => {
  const p = llama3();
  const d = [...p.push('{"name": "f", "parameters": {"x": [1, '), ...p.end()];
  assert.deepEqual(assemble(d), { content: '', calls: [{ name: 'f', arguments: '{"x": [1, ' }] });
  assert.equal(p.calls.length, 0);
  assert.equal(p.malformed, false);
});

test('a hermes call whose header went out but whose JSON breaks is no call, and the parser says so', () => {
  const p = hermes();
  const d = streamed(p, 'Hm.<tool_call>\n{"name": "f", "arguments": {"x": }\n</tool_call>', 4);
  assert.equal(assemble(d).content, 'Hm.');
  assert.equal(p.calls.length, 0);
  assert.equal(p.malformed, true);
});
