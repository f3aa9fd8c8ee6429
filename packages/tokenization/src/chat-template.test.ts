import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChatTemplate, ChatTemplateError, NO_CHAT_TEMPLATE_MESSAGE, type ChatMessage } from './chat-template.ts';
import { strftime } from './strftime.ts';

const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const conversation: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi!' },
];

test('ChatML with and without the generation prompt', () => {
  const t = new ChatTemplate(CHATML);
  const base = '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n';
  assert.equal(t.render(conversation), base + '<|im_start|>assistant\n');
  assert.equal(t.render(conversation, { addGenerationPrompt: true }), base + '<|im_start|>assistant\n');
  assert.equal(t.render(conversation, { addGenerationPrompt: false }), base);
});

test('continue_final_message cuts right after the final message content', () => {
  const t = new ChatTemplate(CHATML);
  const messages: ChatMessage[] = [...conversation, { role: 'assistant', content: 'Hello, I am' }];
  assert.equal(
    t.render(messages, { continueFinalMessage: true }),
    '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello, I am',
  );
  // Trailing whitespace the template keeps is kept; a template that trims it leaves it trimmed (as transformers).
  const spaced: ChatMessage[] = [...conversation, { role: 'assistant', content: 'Hello, ' }];
  assert.ok(t.render(spaced, { continueFinalMessage: true }).endsWith('assistant\nHello, '));
  const trimming = new ChatTemplate('{% for m in messages %}[{{ m.role }}]{{ m.content | trim }}[/]{% endfor %}');
  assert.equal(trimming.render(spaced, { continueFinalMessage: true }), '[system]Be brief.[/][user]Hi![/][assistant]Hello,');
  // The last occurrence is the one cut after, even when earlier messages repeat its text.
  const repeated: ChatMessage[] = [
    { role: 'user', content: 'yes' },
    { role: 'assistant', content: 'yes' },
  ];
  assert.equal(t.render(repeated, { continueFinalMessage: true }), '<|im_start|>user\nyes<|im_end|>\n<|im_start|>assistant\nyes');
  assert.throws(() => t.render(messages, { continueFinalMessage: true, addGenerationPrompt: true }), ChatTemplateError);
  const hiding = new ChatTemplate('{% for m in messages %}{{ m.role }}{% endfor %}');
  assert.throws(() => hiding.render(messages, { continueFinalMessage: true }), /does not appear/);
});

test('content-part arrays are joined; other part types are rejected by name', () => {
  const t = new ChatTemplate(CHATML);
  const parts: ChatMessage[] = [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'one' },
        { type: 'text', text: 'two' },
      ],
    },
  ];
  assert.equal(t.render(parts, { addGenerationPrompt: false }), '<|im_start|>user\none\ntwo<|im_end|>\n');
  const image: ChatMessage[] = [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }];
  assert.throws(
    () => t.render(image),
    (err: unknown) => err instanceof ChatTemplateError && /image_url/.test(err.message),
  );
});

test('null content, names and tool calls reach the template', () => {
  const t = new ChatTemplate(
    '{% for m in messages %}{{ m.role }}:{% if m.content is none %}<none>{% else %}{{ m.content }}{% endif %}' +
      '{% if m.name is defined %}({{ m.name }}){% endif %}{% if m.tool_calls %}{{ m.tool_calls | tojson }}{% endif %};{% endfor %}',
  );
  const messages: ChatMessage[] = [
    { role: 'user', content: 'hi', name: 'ann' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1' }] },
  ];
  assert.equal(t.render(messages), 'user:hi(ann);assistant:<none>[{"id": "c1"}];');
});

test('raise_exception and jinja errors become ChatTemplateError', () => {
  const t = new ChatTemplate("{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation must start with user') }}{% endif %}ok");
  assert.equal(t.render([{ role: 'user', content: 'x' }]), 'ok');
  assert.throws(
    () => t.render([{ role: 'assistant', content: 'x' }]),
    (err: unknown) => err instanceof ChatTemplateError && err.message === 'Conversation must start with user',
  );
  assert.throws(() => new ChatTemplate('{% if %}'), ChatTemplateError);
  assert.throws(() => new ChatTemplate('{{ 1 + [] }}').render([]), ChatTemplateError);
});

test('no template → ChatTemplateError pointing at the alternatives', () => {
  assert.throws(
    () => new ChatTemplate(null),
    (err: unknown) => err instanceof ChatTemplateError && err.message === NO_CHAT_TEMPLATE_MESSAGE,
  );
});

test('special tokens, chat_template_kwargs, range and strftime_now', () => {
  const t = new ChatTemplate(
    "{{ bos_token }}{% for i in range(2) %}{{ i }}{% endfor %}{% if enable_thinking %}T{% endif %}|{{ strftime_now('%Y') }}|{{ eos_token }}",
  );
  const year = String(new Date().getFullYear());
  assert.equal(t.render([], { bosToken: '<s>', eosToken: '</s>', extra: { enable_thinking: true } }), `<s>01T|${year}|</s>`);
  assert.equal(t.render([]), `01|${year}|`);
  assert.throws(() => t.render([], { extra: { messages: [] } }), /may not set "messages"/);
});

test('strftime formats like Python', () => {
  const d = new Date(2024, 6, 4, 15, 5, 9); // local time, as Python's datetime.now()
  assert.equal(strftime(d, '%d %b %Y'), '04 Jul 2024');
  assert.equal(strftime(d, '%A, %B %e %H:%M:%S %I%p %j %y %%'), 'Thursday, July  4 15:05:09 03PM 186 24 %');
});
