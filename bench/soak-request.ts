// @module One soak request: TGI stream, TGI non-stream or OpenAI chat stream, optionally aborted mid-stream; counts how it ended.
export type SoakKind = 'tgi-stream' | 'tgi' | 'chat-stream';

export interface SoakOutcome {
  kind: SoakKind;
  status: number;
  /** The client disconnected on purpose after some tokens (no terminal event expected). */
  aborted: boolean;
  /** Terminal events or responses seen: exactly 1 unless aborted (TGI: final event or error; OpenAI: [DONE]; non-stream: the body). */
  terminals: number;
  /** An error event or non-200 answer. */
  error: string | null;
  /** No answer within the timeout. */
  hung: boolean;
}

const PROMPTS = ['Once upon a time', 'The little dog', 'Lily and Ben went to the park', 'One day, a big bird', 'Tom had a red ball'];

function request(kind: SoakKind, i: number, maxTokens: number): { path: string; body: unknown } {
  const prompt = PROMPTS[i % PROMPTS.length]!;
  if (kind === 'chat-stream')
    return { path: '/v1/chat/completions', body: { model: 'tgi', messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, stream: true } };
  return { path: kind === 'tgi' ? '/generate' : '/generate_stream', body: { inputs: prompt, parameters: { max_new_tokens: maxTokens } } };
}

/** Sends request `i`; `abortAfter` > 0 disconnects after that many SSE events. */
export async function soakRequest(
  url: string,
  kind: SoakKind,
  i: number,
  opts: { maxTokens: number; abortAfter: number; timeoutMs: number },
): Promise<SoakOutcome> {
  const { path, body } = request(kind, i, opts.maxTokens);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('hung')), opts.timeoutMs);
  const out: SoakOutcome = { kind, status: 0, aborted: false, terminals: 0, error: null, hung: false };
  try {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    out.status = res.status;
    if (res.status !== 200 || kind === 'tgi') {
      const parsed = (await res.json()) as { error?: string };
      out.terminals = 1;
      if (res.status !== 200) out.error = parsed.error ?? `status ${res.status}`;
      return out;
    }
    let events = 0;
    let buffer = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const data = buffer
          .slice(0, cut)
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        buffer = buffer.slice(cut + 2);
        if (data === '') continue;
        events++;
        if (data === '[DONE]') out.terminals++;
        else {
          const e = JSON.parse(data) as { error?: unknown; generated_text?: unknown };
          if (e.error !== undefined) {
            out.error = typeof e.error === 'string' ? e.error : JSON.stringify(e.error);
            if (kind === 'tgi-stream') out.terminals++;
          } else if (kind === 'tgi-stream' && typeof e.generated_text === 'string') out.terminals++;
        }
        if (opts.abortAfter > 0 && events >= opts.abortAfter && out.terminals === 0) {
          out.aborted = true;
          controller.abort();
          return out;
        }
      }
    }
    return out;
  } catch (err) {
    if (out.aborted) return out;
    out.hung = controller.signal.reason instanceof Error && controller.signal.reason.message === 'hung';
    out.error = (err as Error).message;
    return out;
  } finally {
    clearTimeout(timer);
  }
}
