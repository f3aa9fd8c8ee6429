// @module OpenAI routes: /v1/chat/completions, /v1/completions, /v1/models — translate, nothing more.
import { Router, type Request, type Response } from 'express';
import { chatRequest, chatResponse, ChatStreamTranslator, chatUsageChunk, type TokenBytes } from '../api/chat.ts';
import { bestChoices, choiceCounts, collectAll, mergeStreams, splitPrompts, startChoices, type Choices } from '../api/choices.ts';
import { completionRequest, completionResponse, CompletionStreamTranslator, completionUsageChunk, modelList, responseContext } from '../api/openai.ts';
import { type ToolFormat, toolFormatOf } from '../api/tool-formats.ts';
import { streamErrorToRouterError, type EndEvent, type TokenEvent } from '../infer/events.ts';
import type { Infer } from '../infer/infer.ts';
import { openAIErrorBody } from './error-response.ts';
import { clientGone, SseWriter, type SseLimits } from './sse.ts';

export interface OpenAIRouteDeps {
  infer: Infer;
  servedModelName: string;
  /** system_fingerprint in every response. */
  fingerprint: string;
  /** /v1/models `created` (router start, unix seconds). */
  createdAt: number;
  maxModelLen: number;
  tokenBytes: TokenBytes;
  /** How the model writes tool calls (from its chat template; default Hermes-style). */
  toolFormat?: ToolFormat;
  /** Slow-reader cut-off for streams; none when absent. */
  sse?: SseLimits;
}

interface Translator<C> {
  start?(): C[];
  token(e: TokenEvent): C[];
  end(e: EndEvent): C[];
}

/**
 * Streams every choice's events as OpenAI chunks (each translator stamps its choice index), then the
 * usage chunk when asked, then `data: [DONE]`. A failure mid-stream is sent as one error object and
 * cancels the other choices; a client that leaves cancels them all.
 */
async function streamOpenAI<C>(
  res: Response,
  limits: SseLimits | undefined,
  choices: Choices,
  translators: Translator<C>[],
  usageChunk: ((ends: EndEvent[]) => C) | null,
): Promise<void> {
  const sse = new SseWriter(res, { space: true, limits });
  await sse.open();
  const ends: EndEvent[] = [];
  let failed = false;
  try {
    for (const t of translators) for (const c of t.start?.() ?? []) sse.sendJson(c);
    for await (const { index, event: e } of mergeStreams(choices.streams.map((s) => s.events))) {
      if (!sse.writable) break;
      const t = translators[index]!;
      if (e.type === 'token') for (const c of t.token(e)) sse.sendJson(c);
      else if (e.type === 'end') {
        ends[index] = e;
        for (const c of t.end(e)) sse.sendJson(c);
      } else {
        failed = true;
        if (e.errorType !== 'cancelled') {
          sse.sendJson(openAIErrorBody(streamErrorToRouterError(e)));
        }
        break;
      }
    }
    if (!failed && usageChunk !== null && sse.writable) sse.sendJson(usageChunk(ends));
    sse.sendDone();
  } finally {
    choices.cancel();
    sse.end();
  }
}

export function openAIRoutes(deps: OpenAIRouteDeps): Router {
  const router = Router();

  router.post('/v1/chat/completions', async (req: Request, res: Response) => {
    const request = chatRequest(req.body, deps.toolFormat ?? toolFormatOf(null));
    const tools = request.tools?.format ?? null;
    const { n } = choiceCounts(request);
    const choices = await startChoices(deps.infer, request, [request.input], n, clientGone(res));
    const ctx = responseContext('chatcmpl', deps.servedModelName, deps.fingerprint);
    const { logprobs, includeUsage, stream } = choices.streams[0]!.request;
    if (stream) {
      const translators = choices.streams.map((_, index) => new ChatStreamTranslator(ctx, { index, logprobs, includeUsage, bytes: deps.tokenBytes, tools }));
      await streamOpenAI(res, deps.sse, choices, translators, includeUsage ? (ends) => chatUsageChunk(ctx, ends) : null);
      return;
    }
    res.json(chatResponse(ctx, await collectAll(choices), logprobs, deps.tokenBytes, tools));
  });

  router.post('/v1/completions', async (req: Request, res: Response) => {
    const request = completionRequest(req.body);
    const { n, bestOf } = choiceCounts(request);
    const prompts = splitPrompts(request.input);
    const choices = await startChoices(deps.infer, request, prompts, bestOf, clientGone(res));
    const ctx = responseContext('cmpl', deps.servedModelName, deps.fingerprint);
    const r = choices.streams[0]!.request;
    if (r.stream) {
      const translators = choices.streams.map(
        (s, index) =>
          new CompletionStreamTranslator(ctx, {
            index,
            includeUsage: r.includeUsage,
            echo: s.request.returnFullText ? s.request.promptText : null,
            logprobs: r.logprobs,
          }),
      );
      await streamOpenAI(res, deps.sse, choices, translators, r.includeUsage ? (ends) => completionUsageChunk(ctx, ends, bestOf) : null);
      return;
    }
    const all = await collectAll(choices);
    // best_of: per prompt, the n sequences with the highest cumulative logprob.
    const returned = prompts.flatMap((_, i) => bestChoices(all.slice(i * bestOf, (i + 1) * bestOf), n));
    res.json(
      completionResponse(
        ctx,
        returned,
        r.logprobs,
        all.map((f) => f.end),
        bestOf,
      ),
    );
  });
  router.get('/v1/models', (_req: Request, res: Response) => {
    res.json(modelList(deps.servedModelName, deps.createdAt, deps.maxModelLen));
  });

  return router;
}
