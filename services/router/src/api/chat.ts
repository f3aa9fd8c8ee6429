// @module OpenAI chat: request → GenerateRequest, events → chat.completion / chat.completion.chunk (chunk state).
import { ValidationError } from '../errors.ts';
import type { EndEvent, TokenEvent, TokenInfo } from '../infer/events.ts';
import type { GenerateRequest, PromptInput } from '../validation/valid-request.ts';
import type { Finished } from './choices.ts';
import { isObject } from './json-shape.ts';
import { head, openAIFinishReason, openAIRequest, usage, type OpenAIFinishReason, type ResponseContext, type Usage } from './openai.ts';
import { oneConstraint } from '../validation/constraints.ts';
import { type ToolCall, type ToolDelta, type ToolFormat, toolFormatOf } from './tool-formats.ts';
import { messagesForTemplate, type ToolRequest, toolsOf } from './tools.ts';

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

/** OpenAI's tool call in a message. */
export interface MessageToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A streamed piece of a tool call: the first carries id, type and name; later ones arguments. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface ChatCompletion extends ResponseContext {
  object: 'chat.completion';
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: MessageToolCall[] };
    logprobs: ChatLogprobs | null;
    finish_reason: OpenAIFinishReason;
  }[];
  usage: Usage;
}

export interface ChatCompletionChunk extends ResponseContext {
  object: 'chat.completion.chunk';
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string; tool_calls?: ToolCallDelta[] };
    logprobs: ChatLogprobs | null;
    finish_reason: OpenAIFinishReason | null;
  }[];
  usage?: Usage | null;
}

/** The chat prompt of a request body: messages plus the chat-template options and tools (shared with /chat_tokenize). */
export function chatInput(body: Record<string, unknown>): Extract<PromptInput, { kind: 'chat' }> {
  return {
    kind: 'chat',
    value: messagesForTemplate(body.messages),
    field: 'messages',
    addGenerationPrompt: body.add_generation_prompt,
    continueFinalMessage: body.continue_final_message,
    templateKwargs: body.chat_template_kwargs,
    ...(Array.isArray(body.tools) && body.tools.length > 0 ? { tools: toolsOf(body).render } : {}),
  };
}

/** A chat request and, when it offers tools (tool_choice not "none"), how to read the calls back. */
export type ChatRequest = GenerateRequest & { tools: { request: ToolRequest; format: ToolFormat } | null };

/** `format`: how this model writes tool calls (tool-formats.ts, from its chat template). */
export function chatRequest(body: unknown, format: ToolFormat = toolFormatOf(null)): ChatRequest {
  if (!isObject(body)) throw new ValidationError('request body must be a JSON object', null);
  if (body.messages === undefined) throw new ValidationError('missing field `messages`', 'messages');
  const tools = toolsOf(body).request;
  const req = openAIRequest(body, chatInput(body), {
    max_completion_tokens: 'maxNewTokens',
    logprobs: 'logprobs',
    top_logprobs: 'topNTokens',
    add_special_tokens: 'addSpecialTokens',
  });
  const toolConstraint = tools === null ? null : format.constraint(tools);
  const constraint = oneConstraint(req.constraint ?? null, toolConstraint === null ? null : { constraint: toolConstraint, field: 'tools' });
  const { constraint: _given, ...rest } = req;
  return { ...rest, ...(constraint !== undefined ? { constraint } : {}), tools: tools === null ? null : { request: tools, format } };
}

/** A finished choice's text read for tool calls: the content around them and the calls; text that breaks the format is all content. */
function withToolCalls(text: string, format: ToolFormat): { content: string; calls: readonly ToolCall[] } {
  const parser = format.parser();
  const deltas = [...parser.push(text), ...parser.end()];
  if (parser.malformed) return { content: text, calls: [] };
  const content = deltas.map((d) => (d.kind === 'content' ? d.text : '')).join('');
  return { content, calls: parser.calls };
}

const messageCall = (c: ToolCall): MessageToolCall => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } });

/** Token bytes for logprob entries (the tokenizer's `tokenBytes`). */
export type TokenBytes = (id: number) => number[] | null;

function entry(t: TokenInfo, top: TokenInfo[], bytes: TokenBytes): LogprobEntry {
  const one = (x: TokenInfo): TopLogprob => ({ token: x.text, logprob: x.logprob, bytes: bytes(x.id) });
  return { ...one(t), top_logprobs: top.map(one) };
}

/** `tools`: the request offered tools, so each choice's text is read for calls (finish_reason "tool_calls" when it made some). */
export function chatResponse(
  ctx: ResponseContext,
  finished: Finished[],
  logprobs: boolean,
  bytes: TokenBytes,
  tools: ToolFormat | null = null,
): ChatCompletion {
  return {
    ...head(ctx, 'chat.completion'),
    choices: finished.map(({ tokens, end }, index) => {
      const read = tools === null ? null : withToolCalls(end.generatedText, tools);
      const called = read !== null && read.calls.length > 0;
      return {
        index,
        message: called
          ? { role: 'assistant' as const, content: read.content.trim() === '' ? null : read.content, tool_calls: read.calls.map(messageCall) }
          : { role: 'assistant' as const, content: end.generatedText },
        logprobs: logprobs ? { content: tokens.map((t) => entry(t.token, t.topTokens, bytes)) } : null,
        finish_reason: called && end.finishReason !== 'length' ? 'tool_calls' : openAIFinishReason(end.finishReason),
      };
    }),
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
  /** Offered tools: the text is read for calls as it streams (tool-formats.ts). */
  readonly #tools: ToolCallStream | null;
  #started = false;

  constructor(ctx: ResponseContext, opts: { index?: number; logprobs: boolean; includeUsage: boolean; bytes: TokenBytes; tools?: ToolFormat | null }) {
    this.#ctx = ctx;
    this.#index = opts.index ?? 0;
    this.#logprobs = opts.logprobs;
    this.#includeUsage = opts.includeUsage;
    this.#bytes = opts.bytes;
    this.#tools = opts.tools ? new ToolCallStream(opts.tools) : null;
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
    if (this.#tools !== null) {
      const deltas = this.#tools.push(e.delta);
      if (deltas.length === 0 && logprobs !== null) deltas.push({ content: '' });
      deltas.forEach((d, i) => out.push(this.#chunk(d, i === 0 ? logprobs : null, null)));
      return out;
    }
    if (e.delta.length > 0 || logprobs !== null) out.push(this.#chunk({ content: e.delta }, logprobs, null));
    return out;
  }

  /** The finish chunk (the usage chunk comes once for all choices: usageChunk). */
  end(end: EndEvent): ChatCompletionChunk[] {
    const out = this.start();
    if (this.#tools !== null) for (const d of this.#tools.end()) out.push(this.#chunk(d, null, null));
    const called = this.#tools !== null && this.#tools.calls > 0 && end.finishReason !== 'length';
    out.push(this.#chunk({}, null, called ? 'tool_calls' : openAIFinishReason(end.finishReason)));
    return out;
  }
}

/** stream_options.include_usage: the last chunk, `choices: []`. */
export function chatUsageChunk(ctx: ResponseContext, ends: EndEvent[]): ChatCompletionChunk {
  return { ...head(ctx, 'chat.completion.chunk'), choices: [], usage: usage(ends) };
}

/** Streamed text → chunk deltas: content as it comes, tool calls as OpenAI streams them (header, then arguments in pieces). */
class ToolCallStream {
  readonly #parser;

  constructor(format: ToolFormat) {
    this.#parser = format.parser();
  }

  get calls(): number {
    return this.#parser.calls.length;
  }

  push(text: string): ChatCompletionChunk['choices'][0]['delta'][] {
    return this.#parser.push(text).map(toDelta);
  }

  end(): ChatCompletionChunk['choices'][0]['delta'][] {
    return this.#parser.end().map(toDelta);
  }
}

function toDelta(d: ToolDelta): ChatCompletionChunk['choices'][0]['delta'] {
  if (d.kind === 'content') return { content: d.text };
  if (d.kind === 'call') return { tool_calls: [{ index: d.index, id: d.id, type: 'function', function: { name: d.name, arguments: '' } }] };
  return { tool_calls: [{ index: d.index, function: { arguments: d.piece } }] };
}
