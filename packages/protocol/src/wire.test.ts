// @module Tests: the wire edge — absent messages arrive null and become domain values or INVALID_ARGUMENT; the committed generated types match proto/generate.proto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { grpc, serviceDefinition, TextGenerationService, toServiceImplementation, CHANNEL_OPTIONS, type ShardHandlers } from './index.ts';
import { fromWireDecodeResponse, fromWirePrefillRequest, fromWirePrefillResponse, WireFormatError } from './wire.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GENERATED = 'packages/protocol/src/generated';

test('a Generation without tokens (a prompt chunk that did not reach its end) becomes empty tokens; absent timings become zeros', () => {
  const res = fromWirePrefillResponse({
    generations: [
      {
        requestId: 1,
        prefillTokens: null,
        tokens: null,
        topTokens: [],
        finishReason: 'FINISH_REASON_UNSPECIFIED',
        generatedTokens: 0,
        seed: 0,
        prefillTopTokens: [],
      },
    ],
    batch: null,
    timings: null,
  });
  assert.deepEqual(res.generations[0]?.tokens, { ids: [], logprobs: [] });
  assert.deepEqual(res.timings, { forwardNs: 0, sampleNs: 0, totalNs: 0, computedTokens: 0, draftTokens: 0, acceptedDraftTokens: 0 });
  const dec = fromWireDecodeResponse({
    generations: [],
    batch: { id: 2, requestIds: [1], size: 1, maxTokens: 9 },
    timings: { forwardNs: 1, sampleNs: 2, totalNs: 3, computedTokens: 4, draftTokens: 0, acceptedDraftTokens: 0, grammarMaskNs: 0 },
  });
  assert.equal(dec.batch?.id, 2);
  assert.equal(dec.timings.totalNs, 3);
});

test('a Prefill without a batch, parameters or stopping parameters is refused as a wire-format error', () => {
  assert.throws(() => fromWirePrefillRequest({ batch: null }), WireFormatError);
  const request = {
    id: 3,
    inputIds: [1],
    parameters: null,
    stoppingParameters: null,
    prefillLogprobs: false,
    topNTokens: 0,
    blocks: [0],
    cacheLen: 0,
    chunkLen: 0,
  };
  assert.throws(() => fromWirePrefillRequest({ batch: { id: 1, requests: [request], size: 1, maxTokens: 4 } }), /request 3 has no parameters/);
});

test('over gRPC, a Prefill missing its parameters fails with INVALID_ARGUMENT before reaching the handler', async () => {
  let called = false;
  const handlers = {
    prefill: async () => {
      called = true;
      throw new Error('unreachable');
    },
  } as unknown as ShardHandlers;
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(serviceDefinition, toServiceImplementation(handlers));
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const client = new TextGenerationService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as {
    Prefill(req: unknown, cb: (e: grpc.ServiceError | null) => void): void;
    close(): void;
  };
  const err = await new Promise<grpc.ServiceError | null>((resolve) =>
    client.Prefill({ batch: { id: 1, requests: [{ id: 9, inputIds: [1] }], size: 1, maxTokens: 4 } }, resolve),
  );
  client.close();
  server.forceShutdown();
  assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err?.details ?? '', /request 9 has no parameters/);
  assert.equal(called, false);
});

test('the committed generated wire types are what `npm run proto:types` writes from proto/generate.proto', () => {
  const script = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['proto:types']!;
  const args = script.split('&&').at(-1)!.trim().split(/\s+/);
  assert.equal(args[0], 'proto-loader-gen-types');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-wire-'));
  try {
    const bin = path.join(REPO, 'node_modules/@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
    const argv = args.slice(1).map((a) => (a === GENERATED ? out : a));
    const run = spawnSync(process.execPath, [bin, ...argv], { cwd: REPO, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const list = (dir: string) => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
    const committed = path.join(REPO, GENERATED);
    assert.deepEqual(list(committed), list(out), 'the same files: run `npm run proto:types`');
    for (const f of list(out)) {
      assert.equal(
        fs.readFileSync(path.join(committed, f), 'utf8'),
        fs.readFileSync(path.join(out, f), 'utf8'),
        `${GENERATED}/${f} is stale: run \`npm run proto:types\``,
      );
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
