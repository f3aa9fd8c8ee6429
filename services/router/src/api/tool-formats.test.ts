// Tool calls per family: the format chosen from the real templates, the constraints the engine accepts, and what they accept read back by the format's parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConstraintCompiler, Xgrammar } from '@tessera/grammar';
import { chatTemplateFixture } from '@tessera/testing';
import { toolFormatOf } from './tool-formats.ts';
import { type ToolRequest, toolsOf } from './tools.ts';
import { weather } from './tools.test-helper.ts';

const QWEN3 = chatTemplateFixture('qwen3');
const QWEN25 = chatTemplateFixture('qwen2.5');
const MISTRAL = chatTemplateFixture('mistral-nemo');
const LLAMA31 = chatTemplateFixture('llama3.1');
const LLAMA31_VLLM = chatTemplateFixture('llama3.1-json-tools');

const time = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', maxLength: 8 } }, required: ['zone'] } },
};
const request = (extra: Record<string, unknown> = {}): ToolRequest => toolsOf({ tools: [weather, time], ...extra }).request!;

test("the format follows the template: Qwen2.5/Qwen3 → hermes, Mistral → mistral, Llama 3.1 (Meta's and vLLM's) → llama3, none → hermes", () => {
  assert.equal(toolFormatOf(QWEN3).name, 'hermes');
  assert.equal(toolFormatOf(QWEN25).name, 'hermes');
  assert.equal(toolFormatOf(MISTRAL).name, 'mistral');
  assert.equal(toolFormatOf(LLAMA31).name, 'llama3');
  assert.equal(toolFormatOf(LLAMA31_VLLM).name, 'llama3');
  assert.equal(toolFormatOf(chatTemplateFixture('gemma3')).name, 'hermes', 'a template without tools: the documented fallback');
  assert.equal(toolFormatOf(null).name, 'hermes');
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

test("what each format's required constraint accepts, its parser reads back as the same calls", async () => {
  const compiler = new ConstraintCompiler();
  const xg = new Xgrammar();
  const texts: [string, string][] = [
    [
      QWEN25,
      '<tool_call>\n{"name": "get_time", "arguments": {"zone": "UTC"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {"zone": "CET"}}\n</tool_call>',
    ],
    [LLAMA31, '{"name": "get_time", "parameters": {"zone": "UTC"}}\n{"name": "get_time", "parameters": {"zone": "CET"}}'],
    [MISTRAL, '[{"name": "get_time", "arguments": {"zone": "UTC"}}, {"name": "get_time", "arguments": {"zone": "CET"}}]'],
  ];
  for (const [template, text] of texts) {
    const format = toolFormatOf(template);
    const g = await xg.lib.Grammar.fromStructuralTag(await compiler.wire(format.constraint(request({ tool_choice: 'required' })) as never));
    assert.ok(await xg.lib.Testings.isGrammarAcceptString(g, text), `${format.name} accepts`);
    g.dispose();
    const p = format.parser();
    for (const ch of text) p.push(ch);
    p.end();
    assert.deepEqual(
      p.calls.map((c) => [c.name, c.arguments]),
      [
        ['get_time', '{"zone": "UTC"}'],
        ['get_time', '{"zone": "CET"}'],
      ],
      format.name,
    );
    assert.equal(p.malformed, false);
  }
});
