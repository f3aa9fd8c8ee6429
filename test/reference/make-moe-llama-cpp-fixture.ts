// @module Writes test/reference/moe-llama-cpp.json: llama.cpp's greedy tokens and top log-probabilities on the tiny MoE GGUF files.
//
// Run by hand, never by the tests (they read the JSON):
//   LLAMA_SERVER=/path/to/llama-server node --import tsx test/reference/make-moe-llama-cpp-fixture.ts
// Each checkpoint of moe-checkpoint.ts is written (writeMoeFixtureGguf: ASCII token names) (deterministic: seed, writer), served by llama-server with
// float32 KV, and asked for greedy tokens (temperature −1: greedy, log-probabilities from a plain softmax of
// the logits) after a prompt given as token ids. The file's sha256 is recorded so a test knows it rebuilt
// the very file llama.cpp read.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MOE_CHECKPOINTS, type MoeCheckpointName, writeMoeFixtureGguf } from './moe-checkpoint.ts';

import { MOE_FIXTURE_FORMS, MOE_FIXTURE_PROMPT, MOE_FIXTURE_STEPS } from './moe-llama-cpp-fixture.ts';

const server = process.env['LLAMA_SERVER'];
if (!server) throw new Error('set LLAMA_SERVER to a llama-server binary');
const out = fileURLToPath(new URL('./moe-llama-cpp.json', import.meta.url));
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-moe-fixture-'));

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function serve<T>(model: string, port: number, fn: (url: string) => Promise<T>): Promise<T> {
  const child = spawn(server!, ['-m', model, '--port', String(port), '-c', '256', '-t', '1', '-np', '1', '-ctk', 'f32', '-ctv', 'f32'], { stdio: 'ignore' });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error('llama-server did not become healthy');
      await new Promise((r) => setTimeout(r, 100));
    }
    return await fn(url);
  } finally {
    child.kill('SIGTERM');
  }
}

interface Step {
  id: number;
  logprob: number;
  top_logprobs: { id: number; logprob: number }[];
}

const result: Record<string, unknown> = {
  source: `llama.cpp llama-server (${path.basename(path.dirname(path.dirname(path.dirname(server))))} build), -ctk f32 -ctv f32, temperature -1 (greedy; log-probs from a plain softmax), n_probs 5`,
  generator: 'test/reference/make-moe-llama-cpp-fixture.ts',
  prompt_ids: MOE_FIXTURE_PROMPT,
  checkpoints: {},
};
let port = 18_650;
for (const name of Object.keys(MOE_CHECKPOINTS) as MoeCheckpointName[]) {
  for (const form of MOE_FIXTURE_FORMS) {
    const file = await writeMoeFixtureGguf(name, path.join(root, name), form);
    const body = await serve(file, port++, async (url) => {
      const res = await fetch(`${url}/completion`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          prompt: MOE_FIXTURE_PROMPT,
          n_predict: MOE_FIXTURE_STEPS,
          temperature: -1,
          n_probs: 5,
          cache_prompt: false,
          ignore_eos: true,
          return_tokens: true,
        }),
      });
      if (!res.ok) throw new Error(`llama-server ${res.status}: ${await res.text()}`);
      return (await res.json()) as { tokens: number[]; tokens_evaluated: number; completion_probabilities: Step[] };
    });
    if (body.tokens_evaluated !== MOE_FIXTURE_PROMPT.length) throw new Error(`llama-server evaluated ${body.tokens_evaluated} prompt tokens (a BOS added?)`);
    (result['checkpoints'] as Record<string, unknown>)[`${name}-${form}`] = {
      sha256: sha256(file),
      greedy_ids: body.completion_probabilities.map((s) => s.id),
      top_logprobs: body.completion_probabilities.map((s) => s.top_logprobs.map((t) => ({ id: t.id, logprob: Number(t.logprob.toFixed(6)) }))),
    };
    console.log(`${name}-${form}: ${body.completion_probabilities.map((s) => s.id).join(' ')}`);
  }
}
fs.writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
fs.rmSync(root, { recursive: true, force: true });
console.log(`wrote ${out}`);
