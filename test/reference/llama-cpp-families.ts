// @module Writes test/reference/fixtures/llama-cpp-families.json: llama.cpp's greedy tokens and top log-probs for each family's tiny GGUF.
//
// An independent implementation of each family (llama.cpp src/models/<arch>.cpp) run on the very GGUF the
// test regenerates from the same seed with Tessera's HF → GGUF writer. Run by hand, never in tests or CI:
//   node --import tsx test/reference/llama-cpp-families.ts path/to/llama.cpp/build/bin/llama-server
// F32 weights and an F32 KV cache, flash attention off, one thread: llama.cpp then computes in float32 throughout.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadHfDir, writeModelAsGguf } from '@tessera/model-files';
import { BYTE_TO_UNICODE } from '../../packages/model-files/src/generated/byte-level.ts';
import { FAMILY_CHECKPOINTS, writeFamilyHfDir, type FamilyName } from './family-checkpoint.ts';

export const FIXTURE_SEED = 11;
export const FIXTURE_PROMPTS = [
  [5, 17, 33, 4, 9, 100, 3, 250, 61],
  [42, 8, 199, 7, 300, 12],
];
export const FIXTURE_NEW_TOKENS = 8;
export const FIXTURE_TOP = 5;
export const FIXTURE_PATH = fileURLToPath(new URL('./fixtures/llama-cpp-families.json', import.meta.url));

/**
 * Ids whose bytes are not valid UTF-8 on their own (lone high bytes of the byte-level vocabulary).
 * llama-server fails a completion whose text is not valid UTF-8, so these are banned by logit_bias when
 * sampling; the log-probs it reports are still over the raw logits (post_sampling_probs false).
 */
export function nonUtf8TokenIds(tokenizerJson: Record<string, unknown>): number[] {
  const unicodeToByte = new Map(BYTE_TO_UNICODE.map((ch, b) => [ch, b]));
  const vocab = (tokenizerJson['model'] as { vocab: Record<string, number> }).vocab;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const banned: number[] = [];
  for (const [token, id] of Object.entries(vocab)) {
    const bytes = [...token].map((ch) => unicodeToByte.get(ch));
    if (bytes.some((b) => b === undefined)) continue; // added tokens (<|im_end|>, reserved): not byte-level
    try {
      decoder.decode(Uint8Array.from(bytes as number[]));
    } catch {
      banned.push(id);
    }
  }
  return banned.sort((a, b) => a - b);
}

export interface FamilyFixture {
  /** Never sampled (nonUtf8TokenIds): greedy is the argmax over the other ids. */
  banned: number[];
  /** Per prompt: the greedy ids and, per generated token, the top log-probs llama.cpp reports. */
  runs: { prompt: number[]; ids: number[]; top: { id: number; logprob: number }[][] }[];
}

async function waitHealthy(url: string, child: ReturnType<typeof spawn>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('llama-server did not become healthy');
}

async function fixtureOf(server: string, gguf: string, port: number, banned: number[]): Promise<FamilyFixture> {
  const child = spawn(
    server,
    [
      '-m',
      gguf,
      '--port',
      String(port),
      '-t',
      '1',
      '-c',
      '256',
      '-np',
      '1',
      '-ctk',
      'f32',
      '-ctv',
      'f32',
      '-fa',
      'off',
      '--no-warmup',
      '--no-jinja',
      '--reasoning-format',
      'none',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d) => (log += String(d)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child);
    const runs: FamilyFixture['runs'] = [];
    for (const prompt of FIXTURE_PROMPTS) {
      const body = {
        prompt,
        n_predict: FIXTURE_NEW_TOKENS,
        temperature: 0,
        top_k: 1,
        n_probs: FIXTURE_TOP,
        cache_prompt: false,
        post_sampling_probs: false,
        return_tokens: true,
        ignore_eos: true,
        samplers: ['top_k'],
        logit_bias: banned.map((id) => [id, false]),
      };
      // Streamed: each chunk carries one token's probabilities (the final chunk may carry an error when
      // the random text is not valid UTF-8; the tokens came before it).
      const text = await (
        await fetch(`${url}/completion`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) })
      ).text();
      const probs: { id: number; top_logprobs: { id: number; logprob: number }[] }[] = [];
      for (const line of text.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const chunk = JSON.parse(line.slice(6)) as Record<string, unknown>;
        probs.push(...((chunk['completion_probabilities'] as typeof probs | undefined) ?? []));
      }
      if (probs.length !== FIXTURE_NEW_TOKENS) throw new Error(`llama-server streamed ${probs.length} tokens: ${text.slice(0, 400)}`);
      runs.push({ prompt, ids: probs.map((p) => p.id), top: probs.map((p) => p.top_logprobs.map((t) => ({ id: t.id, logprob: t.logprob }))) });
    }
    return { banned, runs };
  } catch (error) {
    process.stderr.write(log);
    throw error;
  } finally {
    child.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = process.argv[2];
  if (!server) throw new Error('usage: llama-cpp-families.ts PATH/TO/llama-server');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-llama-cpp-'));
  const out: Record<string, FamilyFixture> = {};
  try {
    for (const family of Object.keys(FAMILY_CHECKPOINTS) as FamilyName[]) {
      // Not named after the family: llama.cpp keys Phi-3 tokenizer quirks on general.name (the directory's name).
      const dir = path.join(tmp, `tiny-${Object.keys(out).length}`);
      writeFamilyHfDir(dir, family, FIXTURE_SEED);
      const gguf = path.join(tmp, `${family}.gguf`);
      const model = await loadHfDir(dir);
      writeModelAsGguf(model, gguf, 'F32');
      out[family] = await fixtureOf(server, gguf, 18180, nonUtf8TokenIds(model.tokenizer.tokenizerJson));
      console.log(family, out[family]!.runs.map((r) => r.ids.join(' ')).join(' | '));
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  fs.writeFileSync(
    FIXTURE_PATH,
    JSON.stringify({ generator: 'test/reference/llama-cpp-families.ts', llamaCpp: 'llama-server, F32 weights and KV, -fa off, -t 1', families: out }, null, 1) +
      '\n',
  );
}
