// @module TGI wire types ⇄ GenerateRequest / StreamEvent (/generate, /generate_stream, POST /).
import { ValidationError } from '../errors.ts';
import type { EndEvent, TokenEvent, TokenInfo } from '../infer/events.ts';
import type { Finished } from './choices.ts';
import type { GenerateRequest, ParamKey, RawParameters } from '../validation/valid-request.ts';
import { isObject } from './json-shape.ts';
import { tgiGrammarConstraint } from '../validation/constraints.ts';

export interface TgiToken {
  id: number;
  text: string;
  logprob: number | null;
  special: boolean;
}

/** A prompt token of `details.prefill` (decoder_input_details); the first has no logprob. */
export interface TgiPrefillToken {
  id: number;
  text: string;
  logprob: number | null;
}

export interface TgiBestOfSequence {
  generated_text: string;
  finish_reason: EndEvent['finishReason'];
  generated_tokens: number;
  seed: number | null;
  prefill: TgiPrefillToken[];
  tokens: TgiToken[];
  top_tokens: TgiToken[][];
}

export interface TgiDetails {
  finish_reason: EndEvent['finishReason'];
  generated_tokens: number;
  seed: number | null;
  prefill: TgiPrefillToken[];
  tokens: TgiToken[];
  top_tokens?: TgiToken[][];
  best_of_sequences?: TgiBestOfSequence[];
}

export interface TgiGenerateResponse {
  generated_text: string;
  details?: TgiDetails;
}

export interface TgiStreamDetails {
  finish_reason: EndEvent['finishReason'];
  generated_tokens: number;
  seed: number | null;
  input_length: number;
}

export interface TgiStreamResponse {
  index: number;
  token: TgiToken;
  top_tokens?: TgiToken[];
  generated_text: string | null;
  details: TgiStreamDetails | null;
}

/** TGI `parameters` field → internal parameter name. */
const TGI_PARAMS: Record<string, ParamKey> = {
  max_new_tokens: 'maxNewTokens',
  temperature: 'temperature',
  top_k: 'topK',
  top_p: 'topP',
  typical_p: 'typicalP',
  do_sample: 'doSample',
  seed: 'seed',
  stop: 'stop',
  repetition_penalty: 'repetitionPenalty',
  frequency_penalty: 'frequencyPenalty',
  best_of: 'bestOf',
  watermark: 'watermark',
  details: 'details',
  decoder_input_details: 'decoderInputDetails',
  top_n_tokens: 'topNTokens',
  truncate: 'truncate',
  return_full_text: 'returnFullText',
};

/**
 * A TGI body `{inputs, parameters, stream?}` → GenerateRequest. `stream` is the route's mode, or
 * null for POST / where the body's `stream` decides. Unknown fields are ignored.
 */
export function tgiGenerateRequest(body: unknown, stream: boolean | null): GenerateRequest {
  if (!isObject(body)) throw new ValidationError('request body must be a JSON object with `inputs`', 'inputs');
  if (body.inputs === undefined) throw new ValidationError('missing field `inputs`', 'inputs');
  const parameters = body.parameters ?? {};
  if (!isObject(parameters)) throw new ValidationError('`parameters` must be an object', 'parameters');
  const params: RawParameters = {};
  const constraint = tgiGrammarConstraint(parameters.grammar);
  const fields: GenerateRequest['fields'] = {};
  for (const [wire, key] of Object.entries(TGI_PARAMS)) {
    if (parameters[wire] !== undefined) params[key] = parameters[wire];
    fields[key] = wire;
  }
  params.stream = stream ?? body.stream ?? false;
  fields.stream = 'stream';
  return { dialect: 'tgi', input: { kind: 'text', value: body.inputs, field: 'inputs' }, params, fields, ...(constraint !== null ? { constraint } : {}) };
}

function tgiToken(t: TokenInfo): TgiToken {
  return { id: t.id, text: t.text, logprob: Number.isFinite(t.logprob) ? t.logprob : null, special: t.special };
}

function prefillTokens(end: EndEvent): TgiPrefillToken[] {
  return (end.prefill ?? []).map((t) => ({ id: t.id, text: t.text, logprob: Number.isFinite(t.logprob) ? t.logprob : null }));
}

function topTokens(tokens: TokenEvent[]): TgiToken[][] {
  return tokens.map((t) => t.topTokens.map(tgiToken));
}

/**
 * The /generate body. `finished` is best first: with best_of, the others become
 * `details.best_of_sequences` (as TGI, which lists every sequence but the returned one).
 */
export function tgiGenerateResponse(finished: Finished[], withDetails: boolean): TgiGenerateResponse {
  const [best, ...others] = finished;
  const { tokens, end } = best!;
  if (!withDetails) return { generated_text: end.generatedText };
  const details: TgiDetails = {
    finish_reason: end.finishReason,
    generated_tokens: end.generatedTokens,
    seed: end.seed,
    prefill: prefillTokens(end),
    tokens: tokens.map((t) => tgiToken(t.token)),
  };
  if (tokens.some((t) => t.topTokens.length > 0)) details.top_tokens = topTokens(tokens);
  if (others.length > 0) {
    details.best_of_sequences = others.map((o) => ({
      generated_text: o.end.generatedText,
      finish_reason: o.end.finishReason,
      generated_tokens: o.end.generatedTokens,
      seed: o.end.seed,
      prefill: prefillTokens(o.end),
      tokens: o.tokens.map((t) => tgiToken(t.token)),
      top_tokens: topTokens(o.tokens),
    }));
  }
  return { generated_text: end.generatedText, details };
}

/**
 * /generate_stream events: TGI puts the last token and the final details in one event, so each token
 * is held until the next event shows whether it was the last.
 */
export class TgiStreamTranslator {
  #held: TokenEvent | null = null;

  /** Returns the events to send now. */
  token(e: TokenEvent): TgiStreamResponse[] {
    const out = this.#held === null ? [] : [this.#event(this.#held, null)];
    this.#held = e;
    return out;
  }

  end(end: EndEvent): TgiStreamResponse[] {
    const held = this.#held;
    this.#held = null;
    if (held === null) return [];
    return [this.#event(held, end)];
  }

  #event(t: TokenEvent, end: EndEvent | null): TgiStreamResponse {
    const out: TgiStreamResponse = {
      index: t.index + 1,
      token: tgiToken(t.token),
      generated_text: end === null ? null : end.generatedText,
      details: end === null ? null : { finish_reason: end.finishReason, generated_tokens: end.generatedTokens, seed: end.seed, input_length: end.inputLength },
    };
    if (t.topTokens.length > 0) out.top_tokens = t.topTokens.map(tgiToken);
    return out;
  }
}
