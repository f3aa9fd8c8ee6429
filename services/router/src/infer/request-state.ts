// @module One request's output side: Generations → token events (detokenized, stop strings cut) → one terminal event.
import type { Generation, Tokens } from '@tessera/protocol';
import { IncrementalDetokenizer, StopStringMatcher, type TextTokenizer } from '@tessera/tokenization';
import type { GenerationSink } from '../scheduler/batcher.ts';
import type { ValidRequest } from '../validation/valid-request.ts';
import type { EventChannel, FinishReason, RequestTimings, TokenInfo } from './events.ts';

const SHARD_FINISH: Record<string, FinishReason | undefined> = {
  FINISH_REASON_LENGTH: 'length',
  FINISH_REASON_EOS_TOKEN: 'eos_token',
  FINISH_REASON_STOP_SEQUENCE: 'stop_sequence',
};

/** Per-token timing callbacks (metrics): the first token, then each later step's tokens. */
export interface TokenObserver {
  firstToken(sinceArrivalMs: number): void;
  nextTokens(count: number, sinceLastMs: number): void;
}

export class RequestState implements GenerationSink {
  readonly #request: ValidRequest;
  readonly #tokenizer: TextTokenizer;
  readonly #channel: EventChannel;
  readonly #detokenizer: IncrementalDetokenizer;
  readonly #stops: StopStringMatcher | null;
  readonly #arrivedAt: number;
  #scheduledAt: number | null = null;
  #firstTokenAt: number | null = null;
  #lastTokenAt: number | null = null;
  readonly #observer: TokenObserver | undefined;
  #generated = 0;
  #text = '';
  #cumulativeLogprob = 0;
  /** Prompt logprobs by position, merged from the prefill chunks (NaN where none came). */
  #promptLogprobs: number[] | null = null;
  #promptTops: TokenInfo[][] | null = null;
  #cancelled = false;

  constructor(request: ValidRequest, tokenizer: TextTokenizer, channel: EventChannel, arrivedAt = performance.now(), observer?: TokenObserver) {
    this.#observer = observer;
    this.#request = request;
    this.#tokenizer = tokenizer;
    this.#channel = channel;
    this.#arrivedAt = arrivedAt;
    this.#detokenizer = new IncrementalDetokenizer(tokenizer, { skipSpecialTokens: true, promptIds: request.inputIds });
    const stops = request.stopping.stopSequences;
    this.#stops = stops.length > 0 ? new StopStringMatcher(stops) : null;
  }

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** True once the terminal event went out. */
  get done(): boolean {
    return this.#channel.closed;
  }

  /** The client went away: end the stream now; the batcher drops the request at its next step. */
  cancel(): void {
    this.#cancelled = true;
    this.#channel.push({ type: 'error', errorType: 'cancelled', message: 'request cancelled by the client' });
  }

  onScheduled(): void {
    this.#scheduledAt ??= performance.now();
  }

  onError(message: string, errorType: 'generation' | 'unavailable' = 'generation'): void {
    this.#channel.push({ type: 'error', errorType, message });
  }

  /** Emits the step's tokens; returns true when the request is finished (shard or router side). */
  onGeneration(g: Generation): boolean {
    if (this.done) return true;
    if (g.prefillTokens != null && this.#request.promptLogprobs) this.#mergePromptLogprobs(g.prefillTokens.logprobs, g.prefillTopTokens ?? []);
    if (g.tokens.ids.length === 0) return false; // a prompt chunk short of the end: nothing sampled yet
    this.#firstTokenAt ??= performance.now();
    this.#observeTokens(g.tokens.ids.length);
    const ids = g.tokens.ids;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      this.#generated++;
      const last = i === ids.length - 1;
      let finish: FinishReason | null = last ? (SHARD_FINISH[g.finishReason] ?? null) : null;
      if (finish === null && this.#generated >= this.#request.stopping.maxNewTokens) finish = 'length';
      let delta = this.#detokenizer.push(id);
      let stop: string | null = null;
      // As vLLM does, stop strings only count once min_tokens are generated.
      const stopsActive = this.#stops !== null && this.#generated >= this.#request.stopping.minNewTokens;
      if (this.#stops !== null && stopsActive) {
        const r = this.#stops.push(delta);
        delta = r.text;
        if (r.stopped) {
          finish = 'stop_sequence';
          stop = r.stop ?? null;
        }
      }
      if (finish !== null && stop === null) {
        // Last token: release what the detokenizer and the stop matcher held back (it may still stop).
        const tail = this.#detokenizer.flush();
        if (this.#stops === null || !stopsActive) delta += tail;
        else {
          const r = this.#stops.push(tail);
          delta += r.text;
          if (r.stopped) [finish, stop] = ['stop_sequence', r.stop ?? null];
          else delta += this.#stops.flush();
        }
      }
      this.#text += delta;
      const logprob = g.tokens.logprobs[i] ?? Number.NaN;
      if (Number.isFinite(logprob)) this.#cumulativeLogprob += logprob;
      this.#channel.push({
        type: 'token',
        index: this.#generated - 1,
        token: this.#tokenInfo(id, g.tokens.logprobs[i] ?? Number.NaN),
        topTokens: this.#topTokens(g, i),
        delta,
      });
      if (finish !== null) {
        this.#end(finish, stop);
        return true;
      }
    }
    return false;
  }

  /** Prompt logprobs (and alternatives) arrive per prefill chunk; each position is filled once computed. */
  #mergePromptLogprobs(logprobs: readonly number[], tops: readonly Tokens[]): void {
    const merged = (this.#promptLogprobs ??= this.#request.inputIds.map(() => Number.NaN));
    const mergedTops = (this.#promptTops ??= this.#request.inputIds.map(() => []));
    logprobs.forEach((lp, k) => {
      if (k >= merged.length || !Number.isFinite(lp)) return;
      merged[k] = lp;
      const top = tops[k];
      if (top) mergedTops[k] = top.ids.map((id, j) => this.#tokenInfo(id, top.logprobs[j] ?? Number.NaN));
    });
  }

  #observeTokens(count: number): void {
    if (count === 0 || this.#observer === undefined) return;
    const now = performance.now();
    if (this.#lastTokenAt === null) {
      this.#observer.firstToken(now - this.#arrivedAt);
      if (count > 1) this.#observer.nextTokens(count - 1, 0);
    } else this.#observer.nextTokens(count, now - this.#lastTokenAt);
    this.#lastTokenAt = now;
  }

  #end(finishReason: FinishReason, stop: string | null): void {
    const now = performance.now();
    const scheduled = this.#scheduledAt ?? now;
    const timings: RequestTimings = {
      queueMs: scheduled - this.#arrivedAt,
      firstTokenMs: (this.#firstTokenAt ?? now) - this.#arrivedAt,
      inferenceMs: now - scheduled,
      totalMs: now - this.#arrivedAt,
      perTokenMs: this.#generated > 0 ? (now - scheduled) / this.#generated : 0,
    };
    const r = this.#request;
    this.#channel.push({
      type: 'end',
      finishReason,
      generatedText: r.returnFullText ? r.promptText + this.#text : this.#text,
      generatedTokens: this.#generated,
      seed: r.seed,
      inputLength: r.inputIds.length,
      stop,
      timings,
      cumulativeLogprob: this.#cumulativeLogprob,
      prefill: r.promptLogprobs
        ? r.inputIds.map((id, k) => ({ ...this.#tokenInfo(id, this.#promptLogprobs?.[k] ?? Number.NaN), topTokens: this.#promptTops?.[k] ?? [] }))
        : null,
    });
  }

  #tokenInfo(id: number, logprob: number): TokenInfo {
    return { id, text: this.#tokenizer.tokenText(id), logprob, special: this.#tokenizer.isSpecial(id) };
  }

  #topTokens(g: Generation, i: number): TokenInfo[] {
    if (this.#request.topNTokens === 0) return [];
    const top = g.topTokens[i];
    if (top === undefined) return [];
    return top.ids.map((id, k) => this.#tokenInfo(id, top.logprobs[k] ?? Number.NaN));
  }
}
