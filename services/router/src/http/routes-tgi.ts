// @module TGI routes: /generate, /generate_stream, POST /, /tokenize, /info, /health, /metrics — translate, nothing more.
import { Router, type Request, type Response } from 'express';
import type { TextTokenizer } from '@tessera/tokenization';
import { tgiGenerateRequest, tgiGenerateResponse, TgiStreamTranslator } from '../api/tgi.ts';
import { ValidationError } from '../errors.ts';
import { streamErrorToRouterError } from '../infer/events.ts';
import { bestChoices, choiceCounts, collectAll, startChoices, type Choices } from '../api/choices.ts';
import { computeCharacters, RequestClock, streamHeaders } from '../api/tgi-headers.ts';
import type { Infer } from '../infer/infer.ts';
import type { RouterMetrics } from '../metrics.ts';
import { tgiErrorBody } from './error-response.ts';
import { tokenizeRoutes } from './routes-tokenize.ts';
import { clientGone, SseWriter, type SseLimits } from './sse.ts';

/** GET /info, as TGI names its fields. */
export interface TgiInfo {
  model_id: string;
  /** --served-model-name: what OpenAI responses and /v1/models call the model. */
  served_model_name: string;
  model_sha: string | null;
  model_dtype: string;
  model_device_type: string;
  /** Tessera's: how the weights are stored and executed (TGI names only the --quantize method). */
  quantize: string | null;
  weights: { types: string; quantized: boolean; bytes_per_shard: number[] };
  model_pipeline_tag: string;
  /** Tessera's: the model's architecture, what its family adds to the Llama block, and every architecture this build loads. */
  model_architecture: string;
  model_features: string[];
  supported_architectures: readonly string[];
  max_concurrent_requests: number;
  max_best_of: number;
  max_stop_sequences: number;
  max_input_tokens: number;
  max_total_tokens: number;
  waiting_served_ratio: number;
  max_batch_total_tokens: number;
  max_waiting_tokens: number;
  max_batch_size: number | null;
  max_batch_prefill_tokens: number;
  validation_workers: number;
  max_client_batch_size: number;
  /** Draft tokens per decode step (the shards' --speculate; 0 = off), as TGI reports it. */
  speculate: number;
  router: string;
  version: string;
  sha: string | null;
  docker_label: string | null;
}

export type HealthCheck = () => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface TgiRouteDeps {
  infer: Infer;
  tokenizer: TextTokenizer;
  info: TgiInfo;
  health: HealthCheck;
  metrics: RouterMetrics;
  /** Slow-reader cut-off for streams; none when absent. */
  sse?: SseLimits;
}

/** Validates and starts a TGI request: best_of sequences (sampling only), timed from here for the headers. */
async function start(
  deps: TgiRouteDeps,
  req: Request,
  res: Response,
  stream: boolean | null,
): Promise<{ choices: Choices; clock: RequestClock; characters: number }> {
  const clock = new RequestClock();
  const request = tgiGenerateRequest(req.body, stream);
  const { bestOf } = choiceCounts(request);
  const choices = await startChoices(deps.infer, request, [request.input], bestOf, clientGone(res));
  clock.validated();
  if (bestOf > 1 && !choices.streams[0]!.request.parameters.doSample) {
    choices.cancel();
    throw new ValidationError('`best_of` > 1 requires sampling (`do_sample` or a sampling parameter)', 'best_of');
  }
  return { choices, clock, characters: computeCharacters((req.body as { inputs?: unknown }).inputs) };
}

async function generate(deps: TgiRouteDeps, res: Response, started: Awaited<ReturnType<typeof start>>, wrapInArray: boolean): Promise<void> {
  const all = await collectAll(started.choices);
  // The sequence with the highest cumulative logprob is returned; the others go to best_of_sequences.
  const best = bestChoices(all, 1)[0]!;
  const ranked = [best, ...all.filter((f) => f !== best)];
  res.set(started.clock.generateHeaders(best.end, deps.info.model_device_type, started.characters));
  const body = tgiGenerateResponse(ranked, best.request.details);
  res.json(wrapInArray ? [body] : body);
}

/** TGI SSE (`data:{…}` without a space); the last token's event carries generated_text and details. */
async function generateStream(deps: TgiRouteDeps, res: Response, started: Awaited<ReturnType<typeof start>>): Promise<void> {
  const stream = started.choices.streams[0]!;
  res.set(streamHeaders(deps.info.model_device_type, started.characters));
  const sse = new SseWriter(res, { space: false, limits: deps.sse });
  await sse.open();
  const translator = new TgiStreamTranslator();
  try {
    for await (const e of stream.events) {
      if (!sse.writable) break;
      if (e.type === 'token') for (const x of translator.token(e)) sse.sendJson(x);
      else if (e.type === 'end') for (const x of translator.end(e)) sse.sendJson(x);
      else if (e.errorType !== 'cancelled') {
        sse.sendJson(tgiErrorBody(streamErrorToRouterError(e)));
      }
    }
  } finally {
    sse.end();
  }
}

export function tgiRoutes(deps: TgiRouteDeps): Router {
  const router = Router();

  router.post('/generate', async (req: Request, res: Response) => {
    await generate(deps, res, await start(deps, req, res, false), false);
  });

  router.post('/generate_stream', async (req: Request, res: Response) => {
    await generateStream(deps, res, await start(deps, req, res, true));
  });

  // huggingface_hub's text_generation posts here; `stream` in the body picks the mode. The
  // non-streamed answer is wrapped in an array, as TGI does to match the Inference API.
  router.post('/', async (req: Request, res: Response) => {
    const started = await start(deps, req, res, null);
    if (started.choices.streams[0]!.request.stream) await generateStream(deps, res, started);
    else await generate(deps, res, started, true);
  });

  router.use(tokenizeRoutes({ tokenizer: deps.tokenizer, validator: () => deps.infer.validator, maxModelLen: deps.info.max_total_tokens }));

  router.get('/info', (_req: Request, res: Response) => {
    res.json(deps.info);
  });

  router.get('/health', async (_req: Request, res: Response) => {
    const h = await deps.health();
    if (h.ok) res.status(200).end();
    else res.status(503).json({ error: h.reason, error_type: 'unhealthy' });
  });

  router.get('/metrics', async (_req: Request, res: Response) => {
    const { contentType, body } = await deps.metrics.render();
    res.type(contentType).send(body);
  });

  return router;
}
