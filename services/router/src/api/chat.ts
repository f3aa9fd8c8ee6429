// @module OpenAI chat: request → GenerateRequest, events → chat.completion / chat.completion.chunk (chunk state).
import { UnsupportedError, ValidationError } from '../errors.ts';
import type { EndEvent, TokenEvent, TokenInfo } from '../infer/events.ts';
import type { GenerateRequest, PromptInput } from '../validation/valid-request.ts';
import type { Finished } from './choices.ts';
import { isObject } from './json-shape.ts';
import { head, openAIFinishReason, openAIRequest, usage, type OpenAIFinishReason, type ResponseContext, type Usage } from './openai.ts';

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}

export interface LogprobEntry extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface ChatLogprobs {
  content: LogprobEntry[];
}

export interface ChatCompletion extends ResponseContext {
  object: 'chat.completion';
  choices: {
    index: number;
    message: { role: 'assistant'; content: string };
    logprobs: ChatLogprobs | null;
    finish_reason: OpenAIFinishReason;
  }[];
  usage: Usage;
}

export interface ChatCompletionChunk extends ResponseContext {
  object: 'chat.completion.chunk';
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string };
    logprobs: ChatLogprobs | null;
    finish_reason: OpenAIFinishReason | null;
  }[];
  usage?: Usage | null;
}

/** The chat prompt of a request body: messages plus the chat-template options (shared with /chat_tokenize). */
export function chatInput(body: Record<string, unknown>): Extract<PromptInput, { kind: 'chat' }> {
  return {
    kind: 'chat',
    value: body.messages,
    field: 'messages',
    addGenerationPrompt: body.add_generation_prompt,
    continueFinalMessage: body.continue_final_message,
    templateKwargs: body.chat_template_kwargs,
  };
}

export function chatRequest(body: unknown): GenerateRequest {
  if (!isObject(body)) throw new ValidationError('request body must be a JSON object', null);
  if (body.messages === undefined) throw new ValidationError('missing field `messages`', 'messages');
  if (Array.isArray(body.tools) && body.tools.length > 0) throw new UnsupportedError('`tools` are not supported yet', 'tools');
  return openAIRequest(body, chatInput(body), {
    max_completion_tokens: 'maxNewTokens',
    logprobs: 'logprobs',
    top_logprobs: 'topNTokens',
    add_special_tokens: 'addSpecialTokens',
  });
}

/** Token bytes for logprob entries (the tokenizer's `tokenBytes`). */
export type TokenBytes = (id: number) => number[] | null;

function entry(t: TokenInfo, top: TokenInfo[], bytes: TokenBytes): LogprobEntry {
  const one = (x: TokenInfo): TopLogprob => ({ token: x.text, logprob: x.logprob, bytes: bytes(x.id) });
  return { ...one(t), top_logprobs: top.map(one) };
}

export function chatResponse(ctx: ResponseContext, finished: Finished[], logprobs: boolean, bytes: TokenBytes): ChatCompletion {
  return {
    ...head(ctx, 'chat.completion'),
    choices: finished.map(({ tokens, end }, index) => ({
      index,
      message: { role: 'assistant', content: end.generatedText },
      logprobs: logprobs ? { content: tokens.map((t) => entry(t.token, t.topTokens, bytes)) } : null,
      finish_reason: openAIFinishReason(end.finishReason),
    })),
    usage: usage(finished.map((f) => f.end)),
  };
}

/** Chunk state of one choice: the role chunk first, content deltas, then the finish chunk. */
export class ChatStreamTranslator {
  readonly #ctx: ResponseContext;
  readonly #index: number;
  readonly #logprobs: boolean;
  readonly #includeUsage: boolean;
  readonly #bytes: TokenBytes;
  #started = false;

  constructor(ctx: ResponseContext, opts: { index?: number; logprobs: boolean; includeUsage: boolean; bytes: TokenBytes }) {
    this.#ctx = ctx;
    this.#index = opts.index ?? 0;
    this.#logprobs = opts.logprobs;
    this.#includeUsage = opts.includeUsage;
    this.#bytes = opts.bytes;
  }

  #chunk(delta: ChatCompletionChunk['choices'][0]['delta'], logprobs: ChatLogprobs | null, finish: OpenAIFinishReason | null): ChatCompletionChunk {
    const c: ChatCompletionChunk = {
      ...head(this.#ctx, 'chat.completion.chunk'),
      choices: [{ index: this.#index, delta, logprobs, finish_reason: finish }],
    };
    if (this.#includeUsage) c.usage = null;
    return c;
  }

  /** The role chunk; sent as soon as the stream opens. */
  start(): ChatCompletionChunk[] {
    if (this.#started) return [];
    this.#started = true;
    return [this.#chunk({ role: 'assistant', content: '' }, null, null)];
  }

  token(e: TokenEvent): ChatCompletionChunk[] {
    const out = this.start();
    const logprobs = this.#logprobs ? { content: [entry(e.token, e.topTokens, this.#bytes)] } : null;
    if (e.delta.length > 0 || logprobs !== null) out.push(this.#chunk({ content: e.delta }, logprobs, null));
    return out;
  }

  /** The finish chunk (the usage chunk comes once for all choices: usageChunk). */
  end(end: EndEvent): ChatCompletionChunk[] {
    const out = this.start();
    out.push(this.#chunk({}, null, openAIFinishReason(end.finishReason)));
    return out;
  }
}

/** stream_options.include_usage: the last chunk, `choices: []`. */
export function chatUsageChunk(ctx: ResponseContext, ends: EndEvent[]): ChatCompletionChunk {
  return { ...head(ctx, 'chat.completion.chunk'), choices: [], usage: usage(ends) };
}
