// @module Test helper: POST JSON and read a server-sent-events body into its raw text and data payloads.

export interface SseResult {
  status: number;
  headers: Headers;
  raw: string;
  /** The `data` of each event, in order (multi-line data joined with \n). */
  data: string[];
}

/** Splits an SSE body into event data payloads (accepts `data:` with or without a space). */
export function parseSse(raw: string): string[] {
  return raw
    .split('\n\n')
    .filter((block) => block.length > 0)
    .map((block) =>
      block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n'),
    );
}

export async function postSse(url: string, body: unknown): Promise<SseResult> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const raw = await res.text();
  return { status: res.status, headers: res.headers, raw, data: parseSse(raw) };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}
