// @module OpenAI wire types ⇄ GenerateRequest / StreamEvent for /v1/completions, plus what chat shares.
import { randomBytes } from 'node:crypto';
import { UnsupportedError, ValidationError } from '../errors.ts';
import type { EndEvent, TokenEvent } from '../infer/events.ts';
import type { GenerateRequest, ParamKey, PromptInput, RawParameters } from '../validation/valid-request.ts';

export type OpenAIFinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What every response and chunk of one request repeats. */
export interface ResponseContext {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

export function responseContext(prefix: 'chatcmpl' | 'cmpl', model: string, fingerprint: string): ResponseContext {
  return {
    id: `${prefix}-${randomBytes(12).toString('hex')}`,
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: fingerprint,
  };
}

/** The leading fields of every response and chunk, in OpenAI's order. */
export function head<O extends string>(ctx: ResponseContext, object: O): ResponseContext & { object: O } {
  return { id: ctx.id, object, created: ctx.created, model: ctx.model, system_fingerprint: ctx.system_fingerprint };
}

/** EOS and stop strings are both "stop" to OpenAI clients. */
export function openAIFinishReason(reason: EndEvent['finishReason']): OpenAIFinishReason {
  return reason === 'length' ? 'length' : 'stop';
}

export function usage(end: EndEvent): Usage {
  return { prompt_tokens: end.inputLength, completion_tokens: end.generatedTokens, total_tokens: end.inputLength + end.generatedTokens };
}

/** Fields both OpenAI endpoints share (with vLLM's common extensions), wire name → internal name. */
const COMMON_PARAMS: Record<string, ParamKey> = {
  max_tokens: 'maxNewTokens',
  temperature: 'temperature',
  top_p: 'topP',
  seed: 'seed',
  stop: 'stop',
  frequency_penalty: 'frequencyPenalty',
  presence_penalty: 'presencePenalty',
  n: 'n',
  logit_bias: 'logitBias',
  stream: 'stream',
  // vLLM extensions, widely sent by clients.
  top_k: 'topK',
  min_p: 'minP',
  repetition_penalty: 'repetitionPenalty',
  ignore_eos: 'ignoreEos',
  min_tokens: 'minNewTokens',
  truncate_prompt_tokens: 'truncate',
};

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Maps the shared fields; `extra` adds endpoint-specific ones. Unknown fields are ignored. */
export function openAIRequest(
  body: Record<string, unknown>,
  input: PromptInput,
  extra: Record<string, ParamKey> = {},
): GenerateRequest {
  const params: RawParameters = {};
  const fields: GenerateRequest['fields'] = {};
  for (const [wire, key] of Object.entries({ ...COMMON_PARAMS, ...extra })) {
    if (body[wire] !== undefined && body[wire] !== null) {
      params[key] = body[wire];
      fields[key] = wire;
    } else fields[key] ??= wire;
  }
  const so = body.stream_options;
  if (so !== undefined && so !== null) {
    if (!isObject(so)) throw new ValidationError('`stream_options` must be an object', 'stream_options');
    params.includeUsage = so.include_usage;
    fields.includeUsage = 'stream_options.include_usage';
  }
  return { dialect: 'openai', input, params, fields };
}

export function completionRequest(body: unknown): GenerateRequest {
  if (!isObject(body)) throw new ValidationError('request body must be a JSON object', null);
  if (body.prompt === undefined) throw new ValidationError('missing field `prompt`', 'prompt');
  if (body.suffix !== undefined && body.suffix !== null) throw new UnsupportedError('`suffix` is not supported yet', 'suffix');
  if (body.logprobs !== undefined && body.logprobs !== null) {
    throw new UnsupportedError('`logprobs` is not supported on /v1/completions yet (use /v1/chat/completions)', 'logprobs');
  }
  return openAIRequest(body, { kind: 'prompt', value: body.prompt, field: 'prompt' }, { echo: 'returnFullText', best_of: 'bestOf' });
}

export interface CompletionChoice {
  text: string;
  index: number;
  logprobs: null;
  finish_reason: OpenAIFinishReason | null;
}

export interface Completion extends ResponseContext {
  object: 'text_completion';
  choices: CompletionChoice[];
  usage?: Usage | null;
}

export function completionResponse(ctx: ResponseContext, end: EndEvent): Completion {
  return {
    ...head(ctx, 'text_completion'),
    choices: [{ text: end.generatedText, index: 0, logprobs: null, finish_reason: openAIFinishReason(end.finishReason) }],
    usage: usage(end),
  };
}

/** Streamed /v1/completions chunks; `echo` sends the prompt text first. */
export class CompletionStreamTranslator {
  readonly #ctx: ResponseContext;
  readonly #includeUsage: boolean;
  #prefix: string;

  constructor(ctx: ResponseContext, opts: { includeUsage: boolean; echo: string | null }) {
    this.#ctx = ctx;
    this.#includeUsage = opts.includeUsage;
    this.#prefix = opts.echo ?? '';
  }

  #chunk(text: string, finish: OpenAIFinishReason | null): Completion {
    const c: Completion = { ...head(this.#ctx, 'text_completion'), choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] };
    if (this.#includeUsage) c.usage = null;
    return c;
  }

  token(e: TokenEvent): Completion[] {
    const text = this.#prefix + e.delta;
    this.#prefix = '';
    return text.length > 0 ? [this.#chunk(text, null)] : [];
  }

  end(end: EndEvent): Completion[] {
    const out = [this.#chunk(this.#prefix, openAIFinishReason(end.finishReason))];
    if (this.#includeUsage) out.push({ ...head(this.#ctx, 'text_completion'), choices: [], usage: usage(end) });
    return out;
  }
}

export interface ModelList {
  object: 'list';
  data: { id: string; object: 'model'; created: number; owned_by: string; max_model_len: number }[];
}

export function modelList(model: string, created: number, maxModelLen: number): ModelList {
  return { object: 'list', data: [{ id: model, object: 'model', created, owned_by: 'tessera', max_model_len: maxModelLen }] };
}
