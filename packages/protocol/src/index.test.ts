// The proto loads and a real grpc-js server/client pair round-trips a Prefill with our types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpc, serviceDefinition, TextGenerationService, toServiceImplementation, CHANNEL_OPTIONS } from './index.ts';
import type { ShardHandlers, PrefillRequest, PrefillResponse } from './index.ts';

test('a Prefill round-trips over loopback with camelCase fields and numeric ids', async () => {
  let seen: PrefillRequest | undefined;
  const handlers = {
    prefill: async (req: PrefillRequest): Promise<PrefillResponse> => {
      seen = req;
      return {
        generations: [
          {
            requestId: 7,
            prefillTokens: null,
            tokens: { ids: [42], logprobs: [-0.5] },
            topTokens: [],
            finishReason: 'FINISH_REASON_LENGTH',
            generatedTokens: 1,
            seed: 3,
          },
        ],
        batch: null,
        timings: { forwardNs: 1, sampleNs: 2, totalNs: 3, computedTokens: 4, draftTokens: 0, acceptedDraftTokens: 0 },
      };
    },
  } as unknown as ShardHandlers;
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(serviceDefinition, toServiceImplementation(handlers));
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const client = new TextGenerationService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as any;
  const res: any = await new Promise((resolve, reject) =>
    client.Prefill(
      {
        batch: {
          id: 5,
          requests: [{ id: 7, inputIds: [1, 2, 3], blocks: [0], cacheLen: 0, parameters: { temperature: 0.5 }, stoppingParameters: { maxNewTokens: 4 } }],
          size: 1,
          maxTokens: 16,
        },
      },
      (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)),
    ),
  );
  client.close();
  server.forceShutdown();
  assert.deepEqual(seen?.batch.requests[0]?.inputIds, [1, 2, 3]);
  assert.equal(seen?.batch.requests[0]?.parameters.temperature, 0.5);
  assert.deepEqual(seen?.batch.requests[0]?.stoppingParameters, { maxNewTokens: 4, stopTokenIds: [], minNewTokens: 0 }, 'absent scalars arrive as defaults');
  assert.equal(res.generations[0].requestId, 7);
  assert.equal(res.generations[0].finishReason, 'FINISH_REASON_LENGTH');
  assert.ok(Math.abs(res.generations[0].tokens.logprobs[0] + 0.5) < 1e-7);
  assert.equal(res.batch, null);
});
