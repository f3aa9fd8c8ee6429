// @module Worker-thread entry of the prompt encoders: a Validator of its own renders chat templates and tokenizes, off the router's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { ConstraintCompiler, GrammarError } from '@tessera/grammar';
import { ChatTemplate, TextTokenizer } from '@tessera/tokenization';
import type { ConstraintParam } from './constraints.ts';
import { RouterError } from '../errors.ts';
import type { EncodeCall, EncodeReply, EncoderInit } from './prompt-encoder.ts';
import { liftLargeStrings } from './large-strings.ts';
import { Validator, type ValidationLimits } from './validate.ts';

const port = parentPort;
if (port === null) throw new Error('validation/encoder-thread.ts must run in a worker thread');
const init = workerData as EncoderInit;

const tokenizer = TextTokenizer.fromFiles(init.tokenizer);
const chatTemplate = init.chatTemplate === null ? null : new ChatTemplate(init.chatTemplate);
const validatorWith = (limits: ValidationLimits) =>
  new Validator({ tokenizer, chatTemplate, chatTemplateError: init.chatTemplateError, limits, eosTokenIds: [] });
/** Built once the limits arrive (the pool starts before the shards are warmed up); encode calls come after. */
let validator: Validator | null = init.limits === null ? null : validatorWith(init.limits);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Loaded on the first constrained request (the engine's WASM takes ~0.1 s to instantiate). */
let compiler: ConstraintCompiler | null = null;

async function compileGrammar(id: number, c: ConstraintParam): Promise<EncodeReply> {
  compiler ??= new ConstraintCompiler();
  try {
    return { id, ok: true, result: await compiler.wire(c.constraint) };
  } catch (err) {
    if (err instanceof GrammarError) return { id, ok: false, code: 'validation', message: `\`${c.field}\`: ${err.message}`, param: c.field };
    return { id, ok: false, code: 'internal', message: (err as Error).message ?? String(err), param: null };
  }
}

function parseJson(body: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new RouterError('bad_request', 'request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RouterError('bad_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
}

port.on('message', (job: EncodeCall) => {
  const { id } = job;
  let reply: EncodeReply;
  try {
    if (job.kind === 'limits') {
      validator = validatorWith(job.limits);
      return;
    }
    if (job.kind === 'grammar') {
      void compileGrammar(id, job.constraint).then((r) => port.postMessage(r));
      return;
    }
    if (job.kind === 'parseJson') {
      const result = parseJson(job.body);
      const lifted = liftLargeStrings(result);
      port.postMessage(
        { id, ok: true, result, lifted } satisfies EncodeReply,
        lifted.map((l) => l.bytes.buffer as ArrayBuffer),
      );
      return;
    }
    if (validator === null) throw new Error('prompt encoder thread: an encode call came before the limits');
    reply = { id, ok: true, result: validator.encodePrompt(job.input, job.options) };
  } catch (err) {
    // RouterErrors (validation) keep their code and field; anything else is a bug, reported as internal.
    const e = err as Error;
    reply =
      err instanceof RouterError
        ? { id, ok: false, code: err.code, message: err.message, param: err.param }
        : { id, ok: false, code: 'internal', message: e.message ?? String(err), param: null };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
