// @module Tests: /tokenize (TGI and vLLM shapes), /detokenize, /chat_tokenize through a whole router.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRouter, type TestRouter } from '../testing/router-harness.ts';
import { postJson } from '../testing/sse-client.ts';

let t: TestRouter;
before(async () => {
  t = await startTestRouter();
});
after(async () => {
  await t.close();
});

test('TGI /tokenize: ids with character offsets, BOS first; add_special_tokens false drops it', async () => {
  const r = await postJson(`${t.url}/tokenize`, { inputs: 'Hello a' });
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.body.map((x: { id: number }) => x.id),
    [1, 303, 259, 260],
  );
  const plain = await postJson(`${t.url}/tokenize`, { inputs: 'Hello a', add_special_tokens: false });
  assert.deepEqual(
    plain.body.map((x: { id: number }) => x.id),
    [303, 259, 260],
  );
});

test('vLLM /tokenize: prompt or messages → {count, max_model_len, tokens}; /detokenize inverts it', async () => {
  const r = await postJson(`${t.url}/tokenize`, { prompt: 'Hello a', return_token_strs: true });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.tokens, [1, 303, 259, 260]);
  assert.equal(r.body.count, 4);
  assert.equal(typeof r.body.max_model_len, 'number');
  assert.equal(r.body.token_strs.length, 4);
  const chat = await postJson(`${t.url}/tokenize`, { messages: [{ role: 'user', content: 'Hello a' }] });
  assert.deepEqual(chat.body.tokens, [1, 303, 259, 260]); // the template's BOS, not a second one
  const d = await postJson(`${t.url}/detokenize`, { tokens: [303, 259, 260] });
  assert.deepEqual(d.body, { prompt: 'Hello a' });
  assert.equal((await postJson(`${t.url}/detokenize`, { tokens: [999999] })).status, 422);
});

test('TGI /chat_tokenize: templated text and its tokens; content parts are joined', async () => {
  const r = await postJson(`${t.url}/chat_tokenize`, {
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hello' },
          { type: 'text', text: 'a' },
        ],
      },
    ],
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.templated_text, '<s>Hello\na');
  assert.equal(r.body.tokenize_response[0].id, 1);
  const bad = await postJson(`${t.url}/chat_tokenize`, { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'x' }] }] });
  assert.equal(bad.status, 422);
  assert.match(bad.body.error, /image_url/);
});
