// @module Tests: OpenAI chat wire ⇄ internal — request mapping and its 4xx, chat.completion bodies and chunk order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../errors.ts';
import { endEvent, finished, tokenEvent, tokenInfo } from '../testing/stream-events.ts';
import { chatRequest, chatResponse, ChatStreamTranslator, chatUsageChunk } from './chat.ts';
import { toolFormatOf } from './tool-formats.ts';

const ctx = { id: 'chatcmpl-1', created: 1700000000, model: 'm', system_fingerprint: 'fp' };
const bytes = (id: number) => [id % 256];
const messages = [{ role: 'user', content: 'Hi' }];

test('chatRequest: messages and template options become the chat input; chat-only names map to the shared parameters', () => {
  const req = chatRequest({
    messages,
    max_completion_tokens: 3,
    logprobs: true,
    top_logprobs: 2,
    add_generation_prompt: false,
    chat_template_kwargs: { x: 1 },
  });
  assert.deepEqual(req.input, {
    kind: 'chat',
    value: messages,
    field: 'messages',
    addGenerationPrompt: false,
    continueFinalMessage: undefined,
    templateKwargs: { x: 1 },
  });
  assert.equal(req.params.maxNewTokens, 3);
  assert.equal(req.fields.maxNewTokens, 'max_completion_tokens');
  assert.equal(req.params.logprobs, true);
  assert.equal(req.params.topNTokens, 2);
  assert.equal(chatRequest({ messages, max_tokens: 9 }).fields.maxNewTokens, 'max_tokens');
});

test('chatRequest refuses a non-object body, missing messages, tools and non-text response formats', () => {
  assert.throws(
    () => chatRequest([]),
    (e: unknown) => e instanceof ValidationError && e.param === null,
  );
  assert.throws(
    () => chatRequest({ model: 'x' }),
    (e: unknown) => e instanceof ValidationError && e.param === 'messages',
  );
  assert.throws(
    () => chatRequest({ messages, tools: [{ type: 'function' }] }),
    (e: unknown) => e instanceof ValidationError && e.param === 'tools[0]',
  );
  assert.deepEqual(chatRequest({ messages, response_format: { type: 'json_object' } }).constraint, {
    constraint: { type: 'json_object' },
    field: 'response_format',
  });
  assert.doesNotThrow(() => chatRequest({ messages, tools: [], response_format: { type: 'text' } }));
});

test('chatResponse: one assistant message per choice, logprobs with bytes and alternatives only when asked, usage', () => {
  const f = finished(
    [tokenEvent(0, 'a', { id: 65, top: [tokenInfo(66, 'b', -2)] })],
    endEvent({ generatedText: 'a', generatedTokens: 1, finishReason: 'eos_token' }),
  );
  const plain = chatResponse(ctx, [f], false, bytes);
  assert.equal(plain.object, 'chat.completion');
  assert.deepEqual(plain.choices[0]?.message, { role: 'assistant', content: 'a' });
  assert.equal(plain.choices[0]?.finish_reason, 'stop');
  assert.equal(plain.choices[0]?.logprobs, null);
  assert.deepEqual(plain.usage, { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
  const withLp = chatResponse(ctx, [f], true, bytes);
  assert.deepEqual(withLp.choices[0]?.logprobs?.content, [
    { token: 'a', logprob: -0.5, bytes: [65], top_logprobs: [{ token: 'b', logprob: -2, bytes: [66] }] },
  ]);
});

test('ChatStreamTranslator: the role chunk once, then content deltas (empty ones only with logprobs), then the finish chunk', () => {
  const t = new ChatStreamTranslator(ctx, { index: 2, logprobs: false, includeUsage: true, bytes });
  const start = t.start();
  assert.deepEqual(start[0]?.choices[0]?.delta, { role: 'assistant', content: '' });
  assert.equal(start[0]?.usage, null);
  assert.deepEqual(t.start(), [], 'the role chunk is sent once');
  const tok = t.token(tokenEvent(0, 'a'));
  assert.equal(tok.length, 1);
  assert.deepEqual(tok[0]?.choices[0]?.delta, { content: 'a' });
  assert.equal(tok[0]?.choices[0]?.index, 2);
  assert.deepEqual(t.token(tokenEvent(1, 'x', { delta: '' })), []);
  const end = t.end(endEvent());
  assert.deepEqual(end[0]?.choices[0]?.delta, {});
  assert.equal(end[0]?.choices[0]?.finish_reason, 'length');

  const lp = new ChatStreamTranslator(ctx, { logprobs: true, includeUsage: false, bytes });
  const first = lp.token(tokenEvent(0, 'x', { delta: '' }));
  assert.equal(first.length, 2, 'role chunk first when a token comes before start()');
  assert.deepEqual(
    first[1]?.choices[0]?.logprobs?.content.map((e) => e.token),
    ['x'],
    'with logprobs an empty delta is still sent',
  );
  assert.equal('usage' in (first[1] ?? {}), false);
});

test('the chat usage chunk has no choices; the shared prompt counts once, every choice’s tokens count', () => {
  const chunk = chatUsageChunk(ctx, [endEvent(), endEvent({ generatedTokens: 4 })]);
  assert.equal(chunk.object, 'chat.completion.chunk');
  assert.deepEqual(chunk.choices, []);
  assert.deepEqual(chunk.usage, { prompt_tokens: 3, completion_tokens: 6, total_tokens: 9 });
});

const hermes = toolFormatOf('<tool_call>');
const call = '<tool_call>\n{"name": "get_time", "arguments": {"zone": "UTC"}}\n</tool_call>';
const toolChoice = (text: string, finishReason: 'eos_token' | 'length' = 'eos_token') =>
  chatResponse(ctx, [finished([], endEvent({ generatedText: text, finishReason }))], false, bytes, hermes).choices[0]!;

test('chatResponse with tools: calls become message.tool_calls (content null when only calls), finish_reason tool_calls, OpenAI field order', () => {
  const only = toolChoice(`${call}\n`);
  assert.deepEqual(Object.keys(only.message), ['role', 'content', 'tool_calls']);
  assert.equal(only.message.content, null);
  assert.equal(only.finish_reason, 'tool_calls');
  const c = only.message.tool_calls![0]!;
  assert.deepEqual(Object.keys(c), ['id', 'type', 'function']);
  assert.match(c.id, /^call_[0-9a-f]{24}$/);
  assert.deepEqual({ type: c.type, function: c.function }, { type: 'function', function: { name: 'get_time', arguments: '{"zone": "UTC"}' } });
  assert.equal(toolChoice(`Checking. ${call}`).message.content, 'Checking. ');
  const plain = toolChoice('No call.');
  assert.deepEqual(plain.message, { role: 'assistant', content: 'No call.' });
  assert.equal(plain.finish_reason, 'stop');
  assert.equal(toolChoice(`${call}\n<tool_call>\n{"name": "get_ti`, 'length').finish_reason, 'length', 'cut by max_tokens: length, completed calls kept');
  const broken = '<tool_call>\n{"name": "get_time", "arguments": {"zone": }\n</tool_call>';
  assert.deepEqual(toolChoice(broken).message, { role: 'assistant', content: broken }, 'a malformed call is returned as text');
  assert.equal(toolChoice(broken).finish_reason, 'stop');
});

test('ChatStreamTranslator with tools: content before the call, then the call header, argument pieces, and finish_reason tool_calls', () => {
  const t = new ChatStreamTranslator(ctx, { logprobs: false, includeUsage: false, bytes, tools: hermes });
  const text = `Ok.${call}`;
  const chunks = [...t.start()];
  for (let i = 0; i < text.length; i += 4) chunks.push(...t.token(tokenEvent(i, text.slice(i, i + 4))));
  chunks.push(...t.end(endEvent({ generatedText: text, finishReason: 'eos_token' })));
  const deltas = chunks.map((c) => c.choices[0]!.delta);
  assert.deepEqual(deltas[0], { role: 'assistant', content: '' });
  assert.equal(deltas.map((d) => d.content ?? '').join(''), 'Ok.', 'no content from the call text');
  const pieces = deltas.flatMap((d) => d.tool_calls ?? []);
  assert.deepEqual(Object.keys(pieces[0]!), ['index', 'id', 'type', 'function']);
  assert.deepEqual(pieces[0]!.function, { name: 'get_time', arguments: '' });
  assert.ok(pieces.slice(1).every((p) => p.index === 0 && p.id === undefined && p.function.name === undefined));
  assert.equal(pieces.map((p) => p.function.arguments).join(''), '{"zone": "UTC"}');
  assert.ok(pieces.length > 2, 'arguments come in pieces');
  assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'tool_calls');
  assert.deepEqual(chunks.at(-1)!.choices[0]!.delta, {});
});
