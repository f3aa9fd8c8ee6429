// @module Worker-thread entry: owns the InferenceSession and the ShardEngine; answers typed calls by message id.
import { parentPort, workerData } from 'node:worker_threads';
import { GrammarMatchers } from '@tessera/grammar';
import { ProcessGroup } from '../collective/group.ts';
import { codeOf } from '../errors.ts';
import { ModelRunner } from './model-runner.ts';
import { ShardEngine } from './shard-engine.ts';
import type { DecodeRequest, DecodeStreamControl } from '@tessera/protocol';
import type { RunnerCall, RunnerClose, RunnerControl, RunnerReply, RunnerThreadInit } from '../runner-client.ts';

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
  // Rank 0 masks logits for constrained requests (the other ranks apply its choices).
  // A vocabulary the engine cannot take must not stop the shard from serving: only constrained requests are refused.
  let grammars: GrammarMatchers | string | null = null;
  if (init.grammarVocabulary !== undefined) {
    grammars = await GrammarMatchers.create(init.grammarVocabulary, init.config.vocabSize).catch(
      (err: unknown) => `the grammar engine could not load this vocabulary (${(err as Error).message ?? String(err)})`,
    );
  }
  const engine = new ShardEngine(runner, init.engine, grammars);
  // Controls of running (or queued) continuous decodes, by call id; delivered at once, not queued.
  const mailboxes = new Map<number, Mailbox>();
  // One call at a time, in arrival order: session.run blocks this thread anyway.
  let queue: Promise<unknown> = Promise.resolve();
  port.on('message', (msg: RunnerCall | RunnerControl | RunnerClose) => {
    // Between steps by construction (onnxruntime runs synchronously on this thread): exiting here
    // never interrupts a native call, which terminate() could (runner-client.ts close()).
    if ('close' in msg) process.exit(0);
    if ('control' in msg) {
      mailboxes.get(msg.control)?.add(msg);
      return;
    }
    const mailbox = msg.method === 'decodeStream' ? new Mailbox() : null;
    if (mailbox !== null) mailboxes.set(msg.id, mailbox);
    queue = queue.then(async () => {
      let reply: RunnerReply;
      try {
        if (mailbox !== null) {
          const io = { emit: (step: unknown) => port.postMessage({ id: msg.id, step }), takeControl: () => mailbox.take() };
          await engine.decodeStream(msg.arg as DecodeRequest, io).finally(() => mailboxes.delete(msg.id));
          reply = { id: msg.id, ok: true, result: null };
        } else {
          const fn = engine[msg.method as Exclude<RunnerCall['method'], 'decodeStream'>] as (arg: unknown) => unknown;
          reply = { id: msg.id, ok: true, result: await fn.call(engine, msg.arg) };
        }
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

/** Controls that arrived for one continuous decode since the loop last looked. */
class Mailbox {
  #drop: number[] = [];
  #stop = false;

  add(c: DecodeStreamControl): void {
    this.#drop.push(...c.dropRequestIds);
    this.#stop ||= c.stop;
  }

  take(): DecodeStreamControl {
    const c = { dropRequestIds: this.#drop, stop: this.#stop };
    this.#drop = [];
    return c;
  }
}
