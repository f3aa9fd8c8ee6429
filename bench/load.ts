// @module Closed-loop load: `concurrency` workers share `numRequests` streaming requests, each sent as the previous one ends.
import { streamRequest } from './request.ts';
import type { Endpoint, RequestRecord, RequestSpec } from './request.ts';
import { promptOrder } from './prompts.ts';

export interface LoadOptions {
  url: string;
  endpoint: Endpoint;
  model: string;
  prompts: readonly string[];
  numRequests: number;
  concurrency: number;
  maxTokens: number;
  temperature: number;
  /** top_p of every request; absent = not sent. */
  topP?: number;
  ignoreEos: boolean;
  seed: number;
  timeoutMs: number;
  /** OpenAI `response_format` for every request (constrained decoding). */
  responseFormat?: unknown;
  /** Called after each request finishes (progress display). */
  onRequestDone?: (record: RequestRecord, finished: number) => void;
}

export interface LoadResult {
  /** One record per request, in request-index order; times are ms relative to the run's start. */
  records: RequestRecord[];
  /** Wall clock from the first request sent to the last one finished. */
  durationMs: number;
}

function checkOptions(o: LoadOptions): void {
  if (!Number.isInteger(o.numRequests) || o.numRequests < 0) throw new RangeError(`numRequests must be an integer ≥ 0, got ${o.numRequests}`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${o.concurrency}`);
  if (o.prompts.length === 0) throw new RangeError('at least one prompt is needed');
}

/**
 * Runs the load and returns every request's record. Workers pull the next request index from a
 * shared counter, so at most `concurrency` requests are in flight and a new one starts as soon as
 * one ends (a closed loop, like `vllm bench serve --max-concurrency C --request-rate inf`).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  checkOptions(options);
  const order = promptOrder(options.numRequests, options.prompts.length, options.seed);
  const records: RequestRecord[] = new Array(options.numRequests);
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  let next = 0;
  let finished = 0;

  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      if (index >= options.numRequests) return;
      const promptIndex = order[index]!;
      const spec: RequestSpec = {
        url: options.url,
        endpoint: options.endpoint,
        model: options.model,
        prompt: options.prompts[promptIndex]!,
        maxTokens: options.maxTokens,
        temperature: options.temperature,
        ignoreEos: options.ignoreEos,
        seed: options.seed + index,
        timeoutMs: options.timeoutMs,
        ...(options.responseFormat !== undefined ? { responseFormat: options.responseFormat } : {}),
        ...(options.topP !== undefined ? { topP: options.topP } : {}),
      };
      const record = await streamRequest(spec, { index, promptIndex }, clock);
      records[index] = record;
      finished++;
      options.onRequestDone?.(record, finished);
    }
  };

  const workers = Math.min(options.concurrency, Math.max(options.numRequests, 1));
  await Promise.all(Array.from({ length: workers }, worker));
  return { records, durationMs: performance.now() - t0 };
}

/**
 * Sends `count` untimed requests (prompt 0, at most `concurrency` at once) so that lazy
 * initialisation on the server does not land in the measured run. Returns their records.
 */
export async function warmup(options: LoadOptions, count: number): Promise<RequestRecord[]> {
  if (count <= 0) return [];
  const { records } = await runLoad({
    ...options,
    prompts: [options.prompts[0]!],
    numRequests: count,
    onRequestDone: undefined,
  });
  return records;
}

/** Asks the server which model it serves (`GET /v1/models`, first id); undefined when it cannot tell. */
export async function discoverModel(url: string, timeoutMs = 10_000): Promise<string | undefined> {
  const root = url.replace(/\/+$/, '').replace(/\/v1$/, '');
  try {
    const response = await fetch(`${root}/v1/models`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { data?: Array<{ id?: unknown }> };
    const id = body.data?.[0]?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
