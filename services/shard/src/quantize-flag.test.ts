// @module `tessera shard --quantize int8|int4` on a float model, over gRPC: Info reports RTN weights, the graph runs exactly them, logits stay near float.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { withLoadTimeQuantization, type LoadedModel } from '@tessera/model-files';
import { CHANNEL_OPTIONS, grpc, TextGenerationService } from '@tessera/protocol';
import { ReferenceCache, ReferenceLlama } from '@tessera/testing';
import { randomLlamaModel } from '@tessera/testing';
import { parseShardArgs } from './config.ts';
import { startShard } from './main.ts';
import { logSoftmax } from './sampler/sampler.ts';

const model = randomLlamaModel({ intermediateSize: 128 }, 5);
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-quantize-flag-'));
after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

const prompt = [5, 17, 33, 4, 9, 100, 3, 150, 42, 8, 199, 61];
const greedy = {
  temperature: 0,
  topK: 0,
  topP: 0,
  typicalP: 0,
  doSample: false,
  seed: 0,
  repetitionPenalty: 0,
  frequencyPenalty: 0,
  presencePenalty: 0,
  minP: 0,
  logitBias: {},
};

/** The fp64 reference's log-probability of each prompt token given the ones before it (index 0: NaN). */
function referencePromptLogprobs(m: LoadedModel): number[] {
  const logits = new ReferenceLlama(m).forward(prompt, new ReferenceCache(m.config.numLayers));
  return prompt.map((t, k) => (k === 0 ? NaN : logSoftmax(logits[k - 1]!)[t]!));
}

type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: any) => void) => void;

/** Starts a shard with `flags`, returns its Info, the prompt's log-probabilities and whether the graph was reused. */
async function serve(flags: string[]): Promise<{ info: any; logprobs: number[]; graphReused: boolean }> {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const config = parseShardArgs([
    '--model-id',
    'random',
    '--port',
    '0',
    '--cache-dir',
    cacheDir,
    '--threads',
    '1',
    '--block-size',
    '4',
    '--kv-cache-memory',
    '256KiB',
    '--quant-accuracy',
    'float32',
    ...flags,
  ])!;
  const shard = await startShard(config, { model, logger });
  const client = new TextGenerationService(`127.0.0.1:${shard.port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  const rpc = (method: string, req: unknown = {}) =>
    new Promise<any>((resolve, reject) =>
      (client as unknown as Record<string, Unary>)[method]!.bind(client)(req, (err, res) => (err ? reject(err) : resolve(res))),
    );
  try {
    const info = await rpc('Info');
    await rpc('Warmup', { maxBatchPrefillTokens: 64, maxTotalTokens: 40, maxBatchSize: 1 });
    const pre = await rpc('Prefill', {
      batch: {
        id: 1,
        size: 1,
        maxTokens: 40,
        requests: [
          {
            id: 1,
            inputIds: prompt,
            blocks: [0, 1, 2, 3],
            cacheLen: 0,
            prefillLogprobs: true,
            topNTokens: 0,
            parameters: greedy,
            stoppingParameters: { maxNewTokens: 1, stopTokenIds: [], minNewTokens: 0 },
          },
        ],
      },
    });
    const graphReused = lines.find((l) => l.msg === 'shard ready')!.graphReused as boolean;
    return { info, logprobs: pre.generations[0].prefillTokens.logprobs, graphReused };
  } finally {
    client.close();
    await shard.close();
  }
}

const maxDiff = (a: number[], b: number[]) => Math.max(...a.slice(1).map((v, k) => Math.abs(v - b[k + 1]!)));

test('--quantize int8 / int4: Info reports RTN weights, logits equal the reference on the RTN weights and stay near float', async (t) => {
  const floatRun = await serve([]);
  assert.equal(floatRun.info.quantized, false);
  const floatRef = referencePromptLogprobs(model);
  assert.ok(maxDiff(floatRun.logprobs, floatRef) < 1e-4);

  const nearFloat: Record<string, number> = {};
  for (const [mode, bound] of [
    ['int8', 0.02],
    ['int4', 0.35],
  ] as const) {
    const run = await serve(['--quantize', mode]);
    assert.equal(run.graphReused, false, `${mode}: a cached float graph must not be reused`);
    assert.equal(run.info.quantized, true);
    assert.match(run.info.weightTypes, new RegExp(`RTN-${mode}×14`));
    // The graph executes exactly the RTN matrices: the fp64 reference on their expansion agrees to float32 rounding.
    assert.ok(maxDiff(run.logprobs, referencePromptLogprobs(withLoadTimeQuantization(model, mode))) < 2e-4, `${mode}: vs the reference on the RTN weights`);
    nearFloat[mode] = maxDiff(run.logprobs, floatRef);
    assert.ok(nearFloat[mode] < bound, `${mode}: prompt log-probabilities within ${bound} of float, got ${nearFloat[mode]}`);
    assert.equal((await serve(['--quantize', mode])).graphReused, true, `${mode}: a second start reuses its own graph`);
  }
  assert.ok(nearFloat['int8']! < nearFloat['int4']! / 4, `int8 (${nearFloat['int8']}) should be far closer to float than int4 (${nearFloat['int4']})`);
  t.diagnostic(`max |Δ log p| of the prompt vs float32: int8 ${nearFloat['int8']!.toExponential(2)}, int4 ${nearFloat['int4']!.toExponential(2)}`);
});
