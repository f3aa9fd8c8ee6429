// @module OpenAI wire types ⇄ GenerateRequest / StreamEvent for /v1/completions, plus what chat shares.
import { randomBytes } from 'node:crypto';
import { UnsupportedError, ValidationError } from '../errors.ts';
import type { EndEvent, TokenEvent } from '../infer/events.ts';
import type { Finished } from './choices.ts';
import { LegacyLogprobsBuilder, legacyLogprobs, type LegacyLogprobs } from './completion-logprobs.ts';
import type { GenerateRequest, ParamKey, PromptInput, RawParameters } from '../validation/valid-request.ts';
import { isObject } from './json-shape.ts';
import { guidedConstraint, oneConstraint, responseFormatConstraint } from '../validation/constraints.ts';

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls';

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

/**
 * Usage over every generated sequence: each prompt counted once (`perPrompt` sequences share one), the
 * completion tokens of all sequences summed (n and best_of included, as OpenAI bills them).
 */
export function usage(ends: EndEvent[], perPrompt = ends.length): Usage {
  let prompt = 0;
  for (let i = 0; i < ends.length; i += Math.max(1, perPrompt)) prompt += ends[i]!.inputLength;
  const completion = ends.reduce((n, e) => n + e.generatedTokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
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
  stop_token_ids: 'stopTokenIds',
  add_special_tokens: 'addSpecialTokens',
  top_k: 'topK',
  min_p: 'minP',
  repetition_penalty: 'repetitionPenalty',
  ignore_eos: 'ignoreEos',
  min_tokens: 'minNewTokens',
  truncate_prompt_tokens: 'truncate',
};

/** Maps the shared fields; `extra` adds endpoint-specific ones. Unknown fields are ignored. */
export function openAIRequest(body: Record<string, unknown>, input: PromptInput, extra: Record<string, ParamKey> = {}): GenerateRequest {
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
  const constraint = oneConstraint(responseFormatConstraint(body.response_format), guidedConstraint(body));
  return { dialect: 'openai', input, params, fields, ...(constraint !== undefined ? { constraint } : {}) };
}

export function completionRequest(body: unknown): GenerateRequest {
  if (!isObject(body)) throw new ValidationError('request body must be a JSON object', null);
  if (body.prompt === undefined) throw new ValidationError('missing field `prompt`', 'prompt');
  if (body.suffix !== undefined && body.suffix !== null) throw new UnsupportedError('`suffix` is not supported (no fill-in-the-middle)', 'suffix');
  const req = openAIRequest(body, { kind: 'prompt', value: body.prompt, field: 'prompt' }, { echo: 'returnFullText', best_of: 'bestOf' });
  // Legacy `logprobs` is the number of alternatives per token (0 still reports the chosen token's logprob).
  const lp = body.logprobs;
  if (lp !== undefined && lp !== null) {
    if (typeof lp !== 'number' || !Number.isInteger(lp))
      throw new ValidationError(`\`logprobs\` must be an integer in [0, 20]. Given: ${JSON.stringify(lp)}`, 'logprobs');
    req.params.logprobs = true;
    req.params.topNTokens = lp;
    req.fields.topNTokens = 'logprobs';
    // With echo, the prompt tokens' logprobs are reported too.
    if (body.echo === true) req.params.decoderInputDetails = true;
    req.fields.decoderInputDetails = 'echo';
  }
  return req;
}

export interface CompletionChoice {
  text: string;
  index: number;
  logprobs: LegacyLogprobs | null;
  finish_reason: OpenAIFinishReason | null;
}

export interface Completion extends ResponseContext {
  object: 'text_completion';
  choices: CompletionChoice[];
  usage?: Usage | null;
}

/**
 * One response for every prompt's choices. `finished` is prompt-major with `perPrompt` sequences per
 * prompt, already reduced to the n returned; `all` (best_of included) counts for usage.
 */
export function completionResponse(ctx: ResponseContext, finished: Finished[], logprobs: boolean, all: EndEvent[], perPromptGenerated: number): Completion {
  return {
    ...head(ctx, 'text_completion'),
    choices: finished.map(({ tokens, end, request }, index) => ({
      text: end.generatedText,
      index,
      logprobs: logprobs ? legacyLogprobs(end.prefill === null ? null : { tokens: end.prefill, text: request.promptText }, tokens) : null,
      finish_reason: openAIFinishReason(end.finishReason),
    })),
    usage: usage(all, perPromptGenerated),
  };
}

/** Streamed /v1/completions chunks of one choice; `echo` sends the prompt text first. */
export class CompletionStreamTranslator {
  readonly #ctx: ResponseContext;
  readonly #index: number;
  readonly #includeUsage: boolean;
  readonly #logprobs: LegacyLogprobsBuilder | null;
  #prefix: string;

  constructor(ctx: ResponseContext, opts: { index?: number; includeUsage: boolean; echo: string | null; logprobs?: boolean }) {
    this.#ctx = ctx;
    this.#index = opts.index ?? 0;
    this.#includeUsage = opts.includeUsage;
    this.#prefix = opts.echo ?? '';
    this.#logprobs = opts.logprobs === true ? new LegacyLogprobsBuilder(this.#prefix.length) : null;
  }

  #chunk(text: string, finish: OpenAIFinishReason | null, logprobs: LegacyLogprobs | null = null): Completion {
    const c: Completion = { ...head(this.#ctx, 'text_completion'), choices: [{ text, index: this.#index, logprobs, finish_reason: finish }] };
    if (this.#includeUsage) c.usage = null;
    return c;
  }

  token(e: TokenEvent): Completion[] {
    const text = this.#prefix + e.delta;
    this.#prefix = '';
    if (this.#logprobs !== null) {
      // The running builder keeps the offsets; each chunk carries its token's entry only.
      this.#logprobs.generated(e);
      const v = this.#logprobs.value;
      const k = v.tokens.length - 1;
      return [
        this.#chunk(text, null, {
          tokens: [v.tokens[k]!],
          token_logprobs: [v.token_logprobs[k]!],
          top_logprobs: [v.top_logprobs[k]!],
          text_offset: [v.text_offset[k]!],
        }),
      ];
    }
    return text.length > 0 ? [this.#chunk(text, null)] : [];
  }

  /** The finish chunk (usage comes once for all choices: completionUsageChunk). */
  end(end: EndEvent): Completion[] {
    return [this.#chunk(this.#prefix, openAIFinishReason(end.finishReason))];
  }
}

/** stream_options.include_usage: the last chunk, `choices: []`. */
export function completionUsageChunk(ctx: ResponseContext, ends: EndEvent[], perPrompt: number): Completion {
  return { ...head(ctx, 'text_completion'), choices: [], usage: usage(ends, perPrompt) };
}

export interface ModelList {
  object: 'list';
  data: { id: string; object: 'model'; created: number; owned_by: string; max_model_len: number }[];
}

export function modelList(model: string, created: number, maxModelLen: number): ModelList {
  return { object: 'list', data: [{ id: model, object: 'model', created, owned_by: 'tessera', max_model_len: maxModelLen }] };
}
