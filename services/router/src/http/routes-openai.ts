// @module OpenAI routes: /v1/chat/completions, /v1/completions, /v1/models — translate, nothing more.
import { Router, type Request, type Response } from 'express';
import { chatRequest, chatResponse, ChatStreamTranslator, type TokenBytes } from '../api/chat.ts';
import { completionRequest, completionResponse, CompletionStreamTranslator, modelList, responseContext } from '../api/openai.ts';
import { GenerationError, RouterError } from '../errors.ts';
import { collect, type EndEvent, type TokenEvent } from '../infer/events.ts';
import type { Infer, InferStream } from '../infer/infer.ts';
import { openAIErrorBody } from './error-response.ts';
import { clientGone, SseWriter } from './sse.ts';

export interface OpenAIRouteDeps {
  infer: Infer;
  servedModelName: string;
  /** system_fingerprint in every response. */
  fingerprint: string;
  /** /v1/models `created` (router start, unix seconds). */
  createdAt: number;
  maxModelLen: number;
  tokenBytes: TokenBytes;
}

interface Translator<C> {
  start?(): C[];
  token(e: TokenEvent): C[];
  end(e: EndEvent): C[];
}

/** Streams events as OpenAI chunks, then `data: [DONE]`; a mid-stream failure is sent as an error object. */
async function streamOpenAI<C>(res: Response, stream: InferStream, translator: Translator<C>): Promise<void> {
  const sse = new SseWriter(res, { space: true });
  sse.open();
  try {
    for (const c of translator.start?.() ?? []) sse.sendJson(c);
    for await (const e of stream.events) {
      if (!sse.writable) break;
      const chunks = e.type === 'token' ? translator.token(e) : e.type === 'end' ? translator.end(e) : null;
      if (chunks !== null) for (const c of chunks) sse.sendJson(c);
      else if (e.type === 'error' && e.errorType !== 'cancelled') {
        sse.sendJson(openAIErrorBody(e.errorType === 'unavailable' ? new RouterError('unavailable', e.message) : new GenerationError(e.message)));
      }
    }
    sse.sendDone();
  } finally {
    sse.end();
  }
}

export function openAIRoutes(deps: OpenAIRouteDeps): Router {
  const router = Router();

  router.post('/v1/chat/completions', async (req: Request, res: Response) => {
    const stream = deps.infer.generate(chatRequest(req.body), clientGone(res));
    const ctx = responseContext('chatcmpl', deps.servedModelName, deps.fingerprint);
    const { logprobs, includeUsage } = stream.request;
    if (stream.request.stream) {
      await streamOpenAI(res, stream, new ChatStreamTranslator(ctx, { logprobs, includeUsage, bytes: deps.tokenBytes }));
      return;
    }
    const { tokens, end } = await collect(stream.events);
    res.json(chatResponse(ctx, tokens, end, logprobs, deps.tokenBytes));
  });

  router.post('/v1/completions', async (req: Request, res: Response) => {
    const stream = deps.infer.generate(completionRequest(req.body), clientGone(res));
    const ctx = responseContext('cmpl', deps.servedModelName, deps.fingerprint);
    const r = stream.request;
    if (r.stream) {
      const echo = r.returnFullText ? r.promptText : null;
      await streamOpenAI(res, stream, new CompletionStreamTranslator(ctx, { includeUsage: r.includeUsage, echo }));
      return;
    }
    const { end } = await collect(stream.events);
    res.json(completionResponse(ctx, end));
  });

  router.get('/v1/models', (_req: Request, res: Response) => {
    res.json(modelList(deps.servedModelName, deps.createdAt, deps.maxModelLen));
  });

  return router;
}
