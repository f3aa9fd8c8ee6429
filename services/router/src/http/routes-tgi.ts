// @module TGI routes: /generate, /generate_stream, POST /, /tokenize, /info, /health, /metrics — translate, nothing more.
import { Router, type Request, type Response } from 'express';
import { IncrementalDetokenizer, type TextTokenizer } from '@tessera/tokenization';
import { tgiGenerateRequest, tgiGenerateResponse, TgiStreamTranslator } from '../api/tgi.ts';
import { GenerationError, RouterError, ValidationError } from '../errors.ts';
import { collect } from '../infer/events.ts';
import type { Infer, InferStream } from '../infer/infer.ts';
import type { RouterMetrics } from '../metrics.ts';
import { tgiErrorBody } from './error-response.ts';
import { clientGone, SseWriter } from './sse.ts';

/** GET /info, as TGI names its fields. */
export interface TgiInfo {
  model_id: string;
  model_sha: string | null;
  model_dtype: string;
  model_device_type: string;
  model_pipeline_tag: string;
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
}

async function generate(res: Response, stream: InferStream, wrapInArray: boolean): Promise<void> {
  const { tokens, end } = await collect(stream.events);
  const body = tgiGenerateResponse(tokens, end, stream.request.details);
  res.json(wrapInArray ? [body] : body);
}

/** TGI SSE (`data:{…}` without a space); the last token's event carries generated_text and details. */
async function generateStream(res: Response, stream: InferStream): Promise<void> {
  const sse = new SseWriter(res, { space: false });
  sse.open();
  const translator = new TgiStreamTranslator();
  try {
    for await (const e of stream.events) {
      if (!sse.writable) break;
      if (e.type === 'token') for (const x of translator.token(e)) sse.sendJson(x);
      else if (e.type === 'end') for (const x of translator.end(e)) sse.sendJson(x);
      else if (e.errorType !== 'cancelled') {
        sse.sendJson(tgiErrorBody(e.errorType === 'unavailable' ? new RouterError('unavailable', e.message) : new GenerationError(e.message)));
      }
    }
  } finally {
    sse.end();
  }
}

/** Character offsets of each token in the decoded text (TGI's /tokenize shape). */
function tokenizeResponse(tok: TextTokenizer, text: string): { id: number; text: string; start: number; stop: number }[] {
  const ids = tok.encode(text, { addSpecialTokens: true });
  const detok = new IncrementalDetokenizer(tok, { skipSpecialTokens: true });
  let offset = 0;
  return ids.map((id, i) => {
    let piece = detok.push(id);
    if (i === ids.length - 1) piece += detok.flush();
    const start = offset;
    offset += piece.length;
    return { id, text: piece, start, stop: offset };
  });
}

export function tgiRoutes(deps: TgiRouteDeps): Router {
  const router = Router();

  router.post('/generate', async (req: Request, res: Response) => {
    await generate(res, deps.infer.generate(tgiGenerateRequest(req.body, false), clientGone(res)), false);
  });

  router.post('/generate_stream', async (req: Request, res: Response) => {
    await generateStream(res, deps.infer.generate(tgiGenerateRequest(req.body, true), clientGone(res)));
  });

  // huggingface_hub's text_generation posts here; `stream` in the body picks the mode. The
  // non-streamed answer is wrapped in an array, as TGI does to match the Inference API.
  router.post('/', async (req: Request, res: Response) => {
    const stream = deps.infer.generate(tgiGenerateRequest(req.body, null), clientGone(res));
    if (stream.request.stream) await generateStream(res, stream);
    else await generate(res, stream, true);
  });

  router.post('/tokenize', (req: Request, res: Response) => {
    const body = req.body as { inputs?: unknown } | undefined;
    if (typeof body?.inputs !== 'string') throw new ValidationError('`inputs` must be a string', 'inputs');
    res.json(tokenizeResponse(deps.tokenizer, body.inputs));
  });

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
