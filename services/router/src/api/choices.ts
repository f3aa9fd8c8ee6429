// @module Several choices per request: OpenAI `n`, `best_of` and prompt arrays, TGI `best_of` — fanned out into single-choice requests.
import { UnsupportedError, ValidationError } from '../errors.ts';
import { collect, type EndEvent, type StreamEvent, type TokenEvent } from '../infer/events.ts';
import type { Infer, InferStream } from '../infer/infer.ts';
import type { GenerateRequest, PromptInput, ValidRequest } from '../validation/valid-request.ts';

/** Most sequences one client request may generate (n × prompts, or best_of × prompts); /info's max_best_of. */
export const MAX_CHOICES = 16;

export interface ChoiceCounts {
  /** Choices returned per prompt. */
  n: number;
  /** Sequences generated per prompt (≥ n); the n with the highest cumulative logprob are returned. */
  bestOf: number;
}

function countParam(req: GenerateRequest, key: 'n' | 'bestOf', dflt: number): number {
  const name = req.fields[key] ?? key;
  const v = req.params[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_CHOICES) {
    throw new ValidationError(`\`${name}\` must be an integer in [1, ${MAX_CHOICES}]. Given: ${JSON.stringify(v)}`, name);
  }
  return v;
}

/** Reads and checks `n` / `best_of` (best_of ≥ n, not with streaming). */
export function choiceCounts(req: GenerateRequest): ChoiceCounts {
  const n = countParam(req, 'n', 1);
  const bestOf = countParam(req, 'bestOf', n);
  const bestName = req.fields.bestOf ?? 'best_of';
  if (bestOf < n) throw new ValidationError(`\`${bestName}\` must be ≥ \`${req.fields.n ?? 'n'}\` (${n}). Given: ${bestOf}`, bestName);
  if (bestOf > n && req.params.stream === true) throw new ValidationError(`\`${bestName}\` > \`n\` is not supported with streaming`, bestName);
  return { n, bestOf };
}

/**
 * OpenAI completions `prompt`: a string, token ids, or an array of several of them. Returns one
 * PromptInput per prompt (OpenAI numbers choices prompt-major: prompt i, choice j → index i·n + j).
 */
export function splitPrompts(input: PromptInput): PromptInput[] {
  const v = input.value;
  if (input.kind !== 'prompt' || !Array.isArray(v) || v.length < 2) return [input];
  if (!v.every((x) => typeof x === 'string' || Array.isArray(x))) return [input]; // one prompt of token ids
  return v.map((value) => ({ ...input, value }));
}

/**
 * Starts `count` single-choice generations of `req` (n / best_of removed). With a client seed, choice i
 * uses seed + i, so the same request gives the same choices; without one each choice gets its own
 * random seed. A refusal (validation, 429) cancels the choices already started and is rethrown.
 */
export interface Choices {
  /** Prompt-major: prompt i, sequence j at i · count + j. */
  streams: InferStream[];
  /** Cancels every choice still running (one failed, or the client left). */
  cancel(): void;
}

export async function startChoices(infer: Infer, req: GenerateRequest, inputs: PromptInput[], count: number, signal: AbortSignal): Promise<Choices> {
  const total = inputs.length * count;
  if (total > MAX_CHOICES) {
    throw new UnsupportedError(`at most ${MAX_CHOICES} sequences per request (prompts × choices). Given: ${inputs.length} × ${count}`, req.fields.n ?? 'n');
  }
  const cancel = new AbortController();
  const onAbort = () => cancel.abort();
  if (signal.aborted) cancel.abort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const seed = req.params.seed;
  const streams: InferStream[] = [];
  try {
    const single = { ...req.params, n: undefined, bestOf: undefined };
    for (const input of inputs) {
      // Each prompt is rendered and tokenized once (off the event loop), whatever the choice count.
      const encoded = await infer.encode({ ...req, input, params: single });
      for (let j = 0; j < count; j++) {
        const params = { ...single };
        if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) params.seed = seed + j;
        streams.push(infer.generate({ ...req, input, params }, cancel.signal, encoded));
      }
    }
  } catch (err) {
    cancel.abort();
    throw err;
  }
  return { streams, cancel: () => cancel.abort() };
}

export interface IndexedEvent {
  /** Position of the stream in the list given to mergeStreams. */
  index: number;
  event: StreamEvent;
}

/** Interleaves several event streams as their events arrive; ends when every stream has ended. */
export async function* mergeStreams(streams: AsyncIterable<StreamEvent>[]): AsyncGenerator<IndexedEvent> {
  const iterators = streams.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<StreamEvent> }>>();
  const pull = (index: number) =>
    pending.set(
      index,
      iterators[index]!.next().then((result) => ({ index, result })),
    );
  iterators.forEach((_, i) => pull(i));
  while (pending.size > 0) {
    const { index, result } = await Promise.race(pending.values());
    if (result.done) {
      pending.delete(index);
      continue;
    }
    pull(index);
    yield { index, event: result.value };
  }
}

/** One finished choice. */
export interface Finished {
  tokens: TokenEvent[];
  end: EndEvent;
  request: ValidRequest;
}

/** The `n` best of `finished` by cumulative logprob, best first (ties keep generation order); as given when none is dropped. */
export function bestChoices(finished: Finished[], n: number): Finished[] {
  if (finished.length <= n) return finished;
  const ranked = finished.map((f, i) => ({ f, i })).sort((a, b) => b.f.end.cumulativeLogprob - a.f.end.cumulativeLogprob || a.i - b.i);
  return ranked.slice(0, n).map((x) => x.f);
}

/** Collects every choice; the first failure cancels the rest and is rethrown. */
export async function collectAll(choices: Choices): Promise<Finished[]> {
  try {
    return await Promise.all(choices.streams.map(async (s) => ({ ...(await collect(s.events)), request: s.request })));
  } catch (err) {
    choices.cancel();
    throw err;
  }
}
