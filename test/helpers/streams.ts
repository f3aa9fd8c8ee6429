// @module Test helpers for serving tests: greedy TGI calls, SSE streams read with arrival times, /stats polling.
import { postJson } from './sse.ts';
import type { StatsBody } from '../../services/router/src/http/routes-stats.ts';

export interface GreedyResult {
  ids: number[];
  text: string;
  finishReason: string;
}

/** TGI /generate, greedy (the TGI default), with details: the generated token ids. */
export async function generateGreedy(url: string, inputs: string, maxNewTokens: number, extra: Record<string, unknown> = {}): Promise<GreedyResult> {
  const res = await postJson(`${url}/generate`, { inputs, parameters: { max_new_tokens: maxNewTokens, details: true, ...extra } });
  if (res.status !== 200) throw new Error(`/generate answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { generated_text: string; details: { finish_reason: string; tokens: { id: number }[] } };
  return { ids: body.details.tokens.map((t) => t.id), text: body.generated_text, finishReason: body.details.finish_reason };
}

export interface TimedStream {
  ids: number[];
  /** performance.now() at the arrival of each token event. */
  times: number[];
  status: number;
}

/**
 * TGI /generate_stream read event by event, recording when each token arrives. `onToken` may return
 * true to abort (disconnect) after that token.
 */
export async function streamGreedy(
  url: string,
  inputs: string,
  parameters: Record<string, unknown>,
  onToken?: (index: number) => boolean | undefined,
): Promise<TimedStream> {
  const controller = new AbortController();
  const res = await fetch(`${url}/generate_stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs, parameters }),
    signal: controller.signal,
  });
  const out: TimedStream = { ids: [], times: [], status: res.status };
  if (res.status !== 200 || res.body === null) return out;
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.split('\n').find((l) => l.startsWith('data:'));
        if (data === undefined) continue;
        const parsed = JSON.parse(data.slice(5)) as { token?: { id: number }; error?: string };
        if (parsed.error !== undefined) throw new Error(`stream error: ${parsed.error}`);
        if (parsed.token === undefined) continue;
        out.ids.push(parsed.token.id);
        out.times.push(performance.now());
        if (onToken?.(out.ids.length - 1) === true) {
          controller.abort();
          return out;
        }
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  }
  return out;
}

/** The body of the router's GET /stats (the router's own type, so the two cannot drift). */
export type Stats = StatsBody;

export async function getStats(url: string): Promise<Stats> {
  const res = await fetch(`${url}/stats`);
  if (res.status !== 200) throw new Error(`/stats answered ${res.status}`);
  return (await res.json()) as Stats;
}

/** Polls /stats until `check` holds; throws with the last stats after `ms`. */
export async function statsEventually(url: string, check: (s: Stats) => boolean, ms = 10_000): Promise<Stats> {
  const until = Date.now() + ms;
  for (;;) {
    const s = await getStats(url);
    if (check(s)) return s;
    if (Date.now() > until) throw new Error(`/stats condition not met: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function tokenize(url: string, inputs: string): Promise<number[]> {
  const res = await postJson(`${url}/tokenize`, { inputs });
  return ((await res.json()) as { id: number }[]).map((t) => t.id);
}

/** Largest gap between consecutive token arrivals within [from, to] (ms). */
export function maxGap(times: number[], from = -Infinity, to = Infinity): number {
  let gap = 0;
  for (let i = 1; i < times.length; i++) if (times[i]! >= from && times[i - 1]! <= to) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}
