// TGI's own API over raw HTTP, against a real router + shard on the generated model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedCluster, type SharedCluster } from './helpers/shared-cluster.ts';
import { postJson, readSse } from './helpers/sse.ts';

interface Details {
  finish_reason: string;
  generated_tokens: number;
  seed: number | null;
  tokens: { id: number; text: string; logprob: number; special: boolean }[];
}

describe('TGI routes', () => {
  let cluster: SharedCluster;
  before(async () => {
    cluster = await sharedCluster();
  });
  after(() => cluster?.stop());

  test('GET /health is 200 and GET /info describes the model and limits', async () => {
    assert.equal((await fetch(`${cluster.url}/health`)).status, 200);
    const info = (await (await fetch(`${cluster.url}/info`)).json()) as Record<string, unknown>;
    for (const key of ['model_id', 'model_dtype', 'model_device_type', 'max_concurrent_requests', 'max_input_tokens', 'max_total_tokens', 'version']) {
      assert.ok(key in info, `/info lacks ${key}`);
    }
    assert.equal(typeof info.max_total_tokens, 'number');
  });

  test('/generate with details; its tokens re-assemble generated_text', async () => {
    const res = await postJson(`${cluster.url}/generate`, { inputs: 'Hello there', parameters: { max_new_tokens: 8, details: true } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { generated_text: string; details: Details };
    assert.equal(body.details.generated_tokens, body.details.tokens.length);
    assert.ok(body.details.generated_tokens <= 8);
    assert.ok(['length', 'eos_token'].includes(body.details.finish_reason));
    for (const t of body.details.tokens) assert.ok(t.logprob <= 0 && Number.isFinite(t.logprob));
    const joined = body.details.tokens
      .filter((t) => !t.special)
      .map((t) => t.text)
      .join('');
    assert.equal(joined.replace(/\uFFFD/g, ''), body.generated_text.replace(/\uFFFD/g, ''));
  });

  test('/generate_stream: token events then one final event with generated_text and details', async () => {
    const res = await postJson(`${cluster.url}/generate_stream`, { inputs: 'Hello there', parameters: { max_new_tokens: 8 } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = (await readSse(res)).map(
      (d) => JSON.parse(d) as { token: { id: number; text: string }; generated_text: string | null; details: Details | null },
    );
    const last = events.at(-1)!;
    assert.ok(events.slice(0, -1).every((e) => e.generated_text === null && e.details === null));
    assert.equal(typeof last.generated_text, 'string');
    assert.equal(last.details!.generated_tokens, events.length);
    const whole = (await (await postJson(`${cluster.url}/generate`, { inputs: 'Hello there', parameters: { max_new_tokens: 8 } })).json()) as {
      generated_text: string;
    };
    assert.equal(last.generated_text, whole.generated_text);
  });

  test('POST / (huggingface_hub text_generation) honours stream true and false', async () => {
    const plain = await postJson(`${cluster.url}/`, { inputs: 'Hi', parameters: { max_new_tokens: 4 }, stream: false });
    assert.equal(plain.status, 200);
    const body = (await plain.json()) as { generated_text: string }[] | { generated_text: string };
    const generated = Array.isArray(body) ? body[0]!.generated_text : body.generated_text;
    assert.equal(typeof generated, 'string');
    const streamed = await postJson(`${cluster.url}/`, { inputs: 'Hi', parameters: { max_new_tokens: 4 }, stream: true });
    const events = (await readSse(streamed)).map((d) => JSON.parse(d) as { generated_text: string | null });
    assert.equal(events.at(-1)!.generated_text, generated);
  });

  test('/tokenize returns ids with character offsets', async () => {
    const res = await postJson(`${cluster.url}/tokenize`, { inputs: 'Hello world' });
    assert.equal(res.status, 200);
    const tokens = (await res.json()) as { id: number; text: string; start: number; stop: number }[];
    assert.ok(tokens.length >= 2);
    for (const t of tokens) assert.ok(Number.isInteger(t.id) && t.start <= t.stop);
  });

  test('sampling with a seed is reproducible and reports the seed', async () => {
    const params = { max_new_tokens: 8, do_sample: true, temperature: 0.9, top_k: 50, top_p: 0.95, seed: 7, details: true };
    const a = (await (await postJson(`${cluster.url}/generate`, { inputs: 'A', parameters: params })).json()) as { generated_text: string; details: Details };
    const b = (await (await postJson(`${cluster.url}/generate`, { inputs: 'A', parameters: params })).json()) as { generated_text: string; details: Details };
    assert.equal(a.generated_text, b.generated_text);
    assert.equal(a.details.seed, 7);
  });
});
