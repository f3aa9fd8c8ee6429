// @module Worker-thread entry: owns the InferenceSession and the ShardEngine; answers typed calls by message id.
import { parentPort, workerData } from 'node:worker_threads';
import { ProcessGroup } from '../collective/group.ts';
import { codeOf } from '../errors.ts';
import { ModelRunner } from './model-runner.ts';
import { ShardEngine } from './shard-engine.ts';
import type { RunnerCall, RunnerReply, RunnerThreadInit } from '../runner-client.ts';

const port = parentPort;
if (port === null) throw new Error('runner/thread.ts must run in a worker thread');
const init = workerData as RunnerThreadInit;

try {
  // Tensor parallel: the collective lives here, beside the sessions whose steps it joins.
  let parallel;
  if (init.parallel !== undefined) {
    const group = await ProcessGroup.create(init.parallel.group);
    group.onBroken((err) => port.postMessage({ collectiveBroken: err.message }));
    parallel = { segmentPaths: init.parallel.segmentPaths, kvHeads: init.parallel.kvHeads, group };
  }
  const runner = await ModelRunner.create(init.onnxPath, init.config, {
    blockSize: init.blockSize,
    threads: init.threads,
    device: init.device,
    deviceId: init.deviceId,
    parallel,
  });
  const engine = new ShardEngine(runner, init.engine);
  // One call at a time, in arrival order: session.run blocks this thread anyway.
  let queue: Promise<unknown> = Promise.resolve();
  port.on('message', (msg: RunnerCall) => {
    queue = queue.then(async () => {
      let reply: RunnerReply;
      try {
        const fn = engine[msg.method] as (arg: unknown) => unknown;
        reply = { id: msg.id, ok: true, result: await fn.call(engine, msg.arg) };
      } catch (err) {
        const e = err as Error;
        reply = { id: msg.id, ok: false, error: { message: e.message ?? String(err), code: codeOf(err), stack: e.stack } };
      }
      port.postMessage(reply);
    });
  });
  port.postMessage({ ready: true, collectiveLinks: runner.group?.transports ?? [] });
} catch (err) {
  port.postMessage({ ready: false, error: (err as Error).message ?? String(err) });
}
