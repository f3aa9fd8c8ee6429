// @module TGI's metric families (tgi_*), named, typed and labelled as text-generation-inference's router defines them, so its Grafana dashboard and alerts work unchanged.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** TGI's duration buckets: 100 µs × 1.5^n, 35 of them (up to ~ 1.3 h). */
const DURATION_BUCKETS = Array.from({ length: 35 }, (_, n) => Number((0.0001 * 1.5 ** n).toPrecision(4)));
const TOKEN_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** What one finished request contributes (seconds and token counts). */
export interface FinishedRequest {
  inputTokens: number;
  generatedTokens: number;
  totalSeconds: number;
  queueSeconds: number;
  inferenceSeconds: number;
  perTokenSeconds: number;
}

/** A gauge whose value is read at each scrape. */
function liveGauge(registry: Registry, name: string, help: string, read: () => number | Promise<number>): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      this.set(await read());
    },
  });
}

/**
 * The tgi_* families. Counters keep TGI's names without `_total` (its exporter writes them so, and
 * its dashboards query them so). Request families are observed when a request ends (TGI counts
 * tgi_request_count as it arrives: the same total once requests have finished).
 */
export class TgiMetrics {
  readonly #count: Counter;
  readonly #success: Counter;
  readonly #failure: Counter<'err'>;
  readonly #duration: Histogram;
  readonly #queueDuration: Histogram;
  readonly #inferenceDuration: Histogram;
  readonly #perToken: Histogram;
  readonly #inputLength: Histogram;
  readonly #generatedTokens: Histogram;
  readonly #batchInferenceCount: Counter<'method'>;
  readonly #batchInferenceSuccess: Counter<'method'>;
  readonly #batchInferenceDuration: Histogram<'method'>;
  readonly #batchForwardDuration: Histogram<'method'>;
  readonly #batchNextSize: Histogram;

  constructor(registry: Registry, live: { queueSize: () => Promise<number>; batchSize: () => Promise<number> }) {
    const registers = [registry];
    this.#count = new Counter({ name: 'tgi_request_count', help: 'Total number of requests', registers });
    this.#success = new Counter({ name: 'tgi_request_success', help: 'Number of successful requests', registers });
    this.#failure = new Counter({ name: 'tgi_request_failure', help: 'Number of failed requests, by error type', labelNames: ['err'], registers });
    const hist = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers });
    this.#duration = hist('tgi_request_duration', 'Total time spent processing the request (e2e latency)', DURATION_BUCKETS);
    this.#queueDuration = hist('tgi_request_queue_duration', 'Time spent in the queue per request', DURATION_BUCKETS);
    this.#inferenceDuration = hist('tgi_request_inference_duration', 'Request inference duration', DURATION_BUCKETS);
    this.#perToken = hist('tgi_request_mean_time_per_token_duration', 'Mean time per token per request (inter-token latency)', DURATION_BUCKETS);
    this.#inputLength = hist('tgi_request_input_length', 'Input token length per request', TOKEN_BUCKETS);
    this.#generatedTokens = hist('tgi_request_generated_tokens', 'Generated tokens per request', TOKEN_BUCKETS);
    this.#batchNextSize = hist('tgi_batch_next_size', 'Batch size of the next batch', BATCH_BUCKETS);
    this.#batchInferenceCount = new Counter({
      name: 'tgi_batch_inference_count',
      help: 'Inference calls per method (prefill or decode)',
      labelNames: ['method'],
      registers,
    });
    this.#batchInferenceSuccess = new Counter({
      name: 'tgi_batch_inference_success',
      help: 'Number of successful inference calls per method (prefill or decode)',
      labelNames: ['method'],
      registers,
    });
    this.#batchInferenceDuration = new Histogram({
      name: 'tgi_batch_inference_duration',
      help: 'Batch inference duration',
      labelNames: ['method'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#batchForwardDuration = new Histogram({
      name: 'tgi_batch_forward_duration',
      help: 'Batch forward duration per method (prefill or decode)',
      labelNames: ['method'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    // Both methods exist from the start, so rate() sees the first steps as an increase from 0.
    for (const method of ['prefill', 'decode'] as const) {
      this.#batchInferenceCount.inc({ method }, 0);
      this.#batchInferenceSuccess.inc({ method }, 0);
      this.#batchInferenceDuration.zero({ method });
      this.#batchForwardDuration.zero({ method });
    }
    liveGauge(registry, 'tgi_queue_size', 'Current queue size', live.queueSize);
    liveGauge(registry, 'tgi_batch_current_size', 'Current batch size', live.batchSize);
  }

  /** The KV tokens held by the running batch, as TGI's "maximum tokens for the current batch". */
  attachBatchTokens(read: () => number, registry: Registry): void {
    liveGauge(registry, 'tgi_batch_current_max_tokens', 'Maximum tokens for the current batch', read);
  }

  finished(r: FinishedRequest): void {
    this.#count.inc();
    this.#success.inc();
    this.#duration.observe(r.totalSeconds);
    this.#queueDuration.observe(r.queueSeconds);
    this.#inferenceDuration.observe(r.inferenceSeconds);
    this.#perToken.observe(r.perTokenSeconds);
    this.#inputLength.observe(r.inputTokens);
    this.#generatedTokens.observe(r.generatedTokens);
  }

  failed(errorType: string): void {
    this.#count.inc();
    this.#failure.inc({ err: errorType });
  }

  /** One shard step that answered (a failed step never reaches the metrics: the batch fails as a unit). */
  step(method: 'prefill' | 'decode', roundTripSeconds: number, forwardSeconds: number | null, requests: number): void {
    this.#batchInferenceCount.inc({ method });
    this.#batchInferenceSuccess.inc({ method });
    this.#batchInferenceDuration.observe({ method }, roundTripSeconds);
    if (forwardSeconds !== null) this.#batchForwardDuration.observe({ method }, forwardSeconds);
    if (method === 'prefill') this.#batchNextSize.observe(requests);
  }
}
