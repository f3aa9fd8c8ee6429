// @module One streaming OpenAI-style request, timed chunk by chunk into a RequestRecord.
import { SseParser } from './sse.ts';

export type Endpoint = 'completions' | 'chat';

/** What one request sends; the body is built by `buildRequestBody`. */
export interface RequestSpec {
  /** Server base URL, e.g. http://127.0.0.1:8080 (a trailing "/v1" is tolerated). */
  url: string;
  endpoint: Endpoint;
  model: string;
  prompt: string;
  maxTokens: number;
  temperature: number;
  /** Nucleus sampling; absent = not sent. */
  topP?: number;
  ignoreEos: boolean;
  /** Sent as the request's `seed` when sampling (temperature > 0) so runs repeat. */
  seed?: number;
  /** Per-request deadline; the request is recorded as failed when it passes. */
  timeoutMs: number;
  /** OpenAI `response_format` sent as is (constrained decoding); absent = free text. */
  responseFormat?: unknown;
}

/** Everything measured about one request; times are milliseconds on one monotonic clock. */
export interface RequestRecord {
  index: number;
  promptIndex: number;
  ok: boolean;
  error?: string;
  startMs: number;
  /** Arrival time of each chunk that carried generated text (in order). */
  chunkMs: number[];
  /** When the response finished (`data: [DONE]`, or the body closed). */
  endMs: number;
  /** `usage.completion_tokens` when the server sent it, else the number of content chunks. */
  outputTokens: number;
  usageCompletionTokens: number | null;
  promptTokens: number | null;
  finishReason: string | null;
  text: string;
}

export function endpointUrl(base: string, endpoint: Endpoint): string {
  const root = base.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${root}/v1/${endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
}

export function buildRequestBody(spec: RequestSpec): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: spec.model,
    max_tokens: spec.maxTokens,
    temperature: spec.temperature,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (spec.endpoint === 'chat') body.messages = [{ role: 'user', content: spec.prompt }];
  else body.prompt = spec.prompt;
  // vLLM extension: keep generating past EOS so every request yields max_tokens tokens.
  if (spec.ignoreEos) body.ignore_eos = true;
  if (spec.seed !== undefined && spec.temperature > 0) body.seed = spec.seed;
  if (spec.responseFormat !== undefined) body.response_format = spec.responseFormat;
  if (spec.topP !== undefined) body.top_p = spec.topP;
  return body;
}

interface StreamChoice {
  text?: unknown;
  delta?: { content?: unknown };
  finish_reason?: unknown;
}
interface StreamChunk {
  choices?: StreamChoice[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
  error?: unknown;
}

/** The generated text a chunk carries (`choices[0].text` or `choices[0].delta.content`), or "". */
function chunkText(choice: StreamChoice | undefined): string {
  if (!choice) return '';
  if (typeof choice.text === 'string') return choice.text;
  const content = choice.delta?.content;
  return typeof content === 'string' ? content : '';
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return JSON.stringify(error);
}

/**
 * Sends one streaming request and records its timing. Never throws: transport errors, non-200
 * replies, server error events and streams without a single content chunk become `ok: false`.
 * `now` is the clock (ms); `index`/`promptIndex` are copied into the record.
 */
export async function streamRequest(
  spec: RequestSpec,
  ids: { index: number; promptIndex: number },
  now: () => number = () => performance.now(),
): Promise<RequestRecord> {
  const record: RequestRecord = {
    ...ids,
    ok: false,
    startMs: now(),
    chunkMs: [],
    endMs: 0,
    outputTokens: 0,
    usageCompletionTokens: null,
    promptTokens: null,
    finishReason: null,
    text: '',
  };
  const fail = (message: string): RequestRecord => {
    record.ok = false;
    record.error = message;
    record.endMs = now();
    return record;
  };
  try {
    const response = await fetch(endpointUrl(spec.url, spec.endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(buildRequestBody(spec)),
      signal: AbortSignal.timeout(spec.timeoutMs),
    });
    if (response.status !== 200 || !response.body) {
      const body = (await response.text().catch(() => '')).slice(0, 500);
      return fail(`HTTP ${response.status} ${response.statusText}${body ? `: ${body}` : ''}`);
    }
    const parser = new SseParser();
    const reader = response.body.getReader();
    let doneAt: number | undefined;
    let serverError: string | undefined;
    for (;;) {
      const read = await reader.read();
      const events = read.done ? parser.end() : parser.push(read.value);
      const at = now();
      for (const event of events) {
        if (doneAt !== undefined) break; // anything after [DONE] is ignored
        if (event.data === '[DONE]') {
          doneAt = at;
          break;
        }
        let chunk: StreamChunk;
        try {
          chunk = JSON.parse(event.data) as StreamChunk;
        } catch {
          serverError = `unparseable SSE data: ${event.data.slice(0, 200)}`;
          continue;
        }
        if (event.event === 'error' || chunk.error !== undefined) {
          serverError = errorText(chunk.error ?? chunk);
          continue;
        }
        const choice = chunk.choices?.[0];
        const text = chunkText(choice);
        if (text.length > 0) {
          record.chunkMs.push(at);
          record.text += text;
        }
        if (choice && typeof choice.finish_reason === 'string') record.finishReason = choice.finish_reason;
        if (chunk.usage) {
          const { prompt_tokens, completion_tokens } = chunk.usage;
          if (typeof completion_tokens === 'number') record.usageCompletionTokens = completion_tokens;
          if (typeof prompt_tokens === 'number') record.promptTokens = prompt_tokens;
        }
      }
      if (read.done) break;
    }
    // The body is read to its end (not cancelled at [DONE]) so the keep-alive connection is reused.
    record.endMs = doneAt ?? now();
    record.outputTokens = record.usageCompletionTokens ?? record.chunkMs.length;
    if (serverError !== undefined) return fail(serverError);
    if (record.chunkMs.length === 0) return fail('stream ended without any content chunk');
    record.ok = true;
    return record;
  } catch (err) {
    const e = err as Error & { cause?: { message?: string } };
    const detail = e.cause?.message ? ` (${e.cause.message})` : '';
    return fail(e.name === 'TimeoutError' ? `timed out after ${spec.timeoutMs} ms` : `${e.message}${detail}`);
  }
}
