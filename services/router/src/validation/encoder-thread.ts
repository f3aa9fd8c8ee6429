// @module Worker-thread entry of the prompt encoders: a Validator of its own renders chat templates and tokenizes, off the router's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { ChatTemplate, TextTokenizer } from '@tessera/tokenization';
import { RouterError } from '../errors.ts';
import type { EncodeCall, EncodeReply, EncoderInit } from './prompt-encoder.ts';
import { Validator } from './validate.ts';

const port = parentPort;
if (port === null) throw new Error('validation/encoder-thread.ts must run in a worker thread');
const init = workerData as EncoderInit;

const validator = new Validator({
  tokenizer: TextTokenizer.fromFiles(init.tokenizer),
  chatTemplate: init.chatTemplate === null ? null : new ChatTemplate(init.chatTemplate),
  chatTemplateError: init.chatTemplateError,
  limits: init.limits,
  eosTokenIds: [],
});

port.on('message', ({ id, input, options }: EncodeCall) => {
  let reply: EncodeReply;
  try {
    reply = { id, ok: true, encoded: validator.encodePrompt(input, options) };
  } catch (err) {
    // RouterErrors (validation) keep their code and field; anything else is a bug, reported as internal.
    const e = err as Error;
    reply = err instanceof RouterError ? { id, ok: false, code: err.code, message: err.message, param: err.param } : { id, ok: false, code: 'internal', message: e.message ?? String(err), param: null };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
