// @module Seeded generator of hostile HTTP requests (bodies, content types, encodings) for the edge fuzz test.
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { uniformSource } from '@tessera/testing';

/** A seeded PRNG (mulberry32), so a failing case can be replayed from its seed and index. */
export const prng = uniformSource;

export interface HostileRequest {
  route: string;
  headers: Record<string, string>;
  body: Buffer;
  /** What kind of hostility, for the failure message. */
  kind: string;
}

/** A valid body per POST route: the starting point of the structural mutations. */
const VALID: Record<string, () => unknown> = {
  '/': () => ({ inputs: 'Hello', parameters: { max_new_tokens: 4 }, stream: false }),
  '/generate': () => ({ inputs: 'Hello', parameters: { max_new_tokens: 4, details: true, top_n_tokens: 2, stop: ['x'] } }),
  '/generate_stream': () => ({
    inputs: 'Hello',
    parameters: { max_new_tokens: 4, best_of: 1, do_sample: true, seed: 3, grammar: { type: 'regex', value: '[a-z]{1,8}' } },
  }),
  '/v1/chat/completions': () => ({
    model: 'm',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
    ],
    max_tokens: 4,
    stream: false,
    logprobs: true,
    top_logprobs: 2,
    stop: ['x'],
    stream_options: { include_usage: true },
    logit_bias: { '5': 1 },
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'integer', maximum: 9 } }, required: ['a'] } } }],
    tool_choice: { type: 'function', function: { name: 'f' } },
    parallel_tool_calls: false,
  }),
  '/v1/completions': () => ({
    model: 'm',
    prompt: ['Hello'],
    max_tokens: 4,
    n: 1,
    best_of: 1,
    logprobs: 1,
    echo: false,
    stop: 'x',
    response_format: { type: 'json_schema', json_schema: { name: 'o', schema: { type: 'object', properties: { b: { enum: ['x', 'y'] } } } } },
  }),
  '/tokenize': () => ({ inputs: 'Hello', add_special_tokens: true }),
  '/detokenize': () => ({ tokens: [1, 2, 3] }),
  '/chat_tokenize': () => ({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] }),
};

export const POST_ROUTES = Object.keys(VALID);

/** Every route's valid body with one path (of every path) replaced by null, [null], {} or [] — deterministic. */
export function nullSweep(): { route: string; body: unknown; path: string }[] {
  const out: { route: string; body: unknown; path: string }[] = [];
  for (const [route, make] of Object.entries(VALID)) {
    const walk = (node: unknown, trail: (string | number)[]) => {
      if (node === null || typeof node !== 'object') return;
      for (const key of Object.keys(node)) {
        const here = [...trail, Array.isArray(node) ? Number(key) : key];
        for (const replacement of [null, [null], {}, []]) {
          const body = make() as Record<string, unknown>;
          let parent = body as Record<string | number, unknown>;
          for (const k of here.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
          parent[here[here.length - 1]!] = replacement;
          out.push({ route, body, path: `${here.join('.')}=${JSON.stringify(replacement)}` });
        }
        walk((node as Record<string, unknown>)[key], here);
      }
    };
    walk(make(), []);
  }
  return out;
}

const STRINGS = [
  '',
  ' ',
  'a',
  '\u0000',
  '\ud800',
  '🦀'.repeat(50),
  'x'.repeat(5000),
  '{{ 7*7 }}',
  '{% for x in range(99999999) %}',
  '<s></s>',
  '__proto__',
  '\r\n\r\n',
  'null',
];
const NUMBERS = [0, -0, -1, 1, 0.5, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 5e-324, 1e-7, 4096, 65536, 1e21];

export class HostileGenerator {
  readonly #rand: () => number;

  constructor(seed: number) {
    this.#rand = prng(seed);
  }

  #int(n: number): number {
    return Math.floor(this.#rand() * n);
  }
  #pick<T>(xs: readonly T[]): T {
    return xs[this.#int(xs.length)]!;
  }

  /** A random JSON value, shallow by default (deep ones come from #nested). */
  value(depth = 0): unknown {
    const r = this.#int(depth > 3 ? 5 : 9);
    switch (r) {
      case 0:
        return null;
      case 1:
        return this.#rand() < 0.5;
      case 2:
        return this.#pick(NUMBERS);
      case 3:
        return this.#pick(STRINGS);
      case 4:
        return [null];
      case 5:
        return Array.from({ length: this.#int(4) }, () => this.value(depth + 1));
      case 6:
        return Object.fromEntries(
          Array.from({ length: this.#int(4) }, () => [
            this.#pick(['role', 'content', 'type', 'text', 'inputs', 'x', '__proto__', 'constructor']),
            this.value(depth + 1),
          ]),
        );
      case 7:
        return {};
      default:
        return [];
    }
  }

  /** Replaces (or deletes, or nulls) a random path of a valid body. */
  #mutate(body: unknown, times: number): unknown {
    for (let i = 0; i < times; i++) {
      let node = body as Record<string, unknown>;
      // Walk down a few levels, then replace one key.
      for (let d = 0; d < 4; d++) {
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const k = this.#pick(keys);
        const child = node[k];
        if (child === null || typeof child !== 'object' || this.#rand() < 0.4) break;
        node = child as Record<string, unknown>;
      }
      const keys = Object.keys(node);
      const key =
        keys.length > 0 && this.#rand() < 0.8
          ? this.#pick(keys)
          : this.#pick(['parameters', 'messages', 'tools', 'stop', 'content', 'prompt', 'inputs', 'n', 'stream']);
      const how = this.#int(5);
      if (how === 0) delete node[key];
      else if (how === 1) node[key] = null;
      else if (how === 2) node[key] = [null];
      else node[key] = this.value();
    }
    return body;
  }

  #nested(depth: number): string {
    const open = this.#rand() < 0.5 ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    return `{"inputs":${open.repeat(depth)}1${close.repeat(depth)}}`;
  }

  #bodyBytes(route: string): { body: Buffer; kind: string } {
    const r = this.#int(20);
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    if (r < 9) return { body: json(this.#mutate(VALID[route]!(), 1 + this.#int(3))), kind: 'mutated' };
    if (r < 11) return { body: json(this.value()), kind: 'random-json' };
    if (r === 11) return { body: Buffer.from(this.#nested(this.#pick([60, 70, 200, 5000, 100_000]))), kind: 'deep' };
    if (r === 12) return { body: Buffer.from(`{"prompt":[${'1,'.repeat(300_000)}1],"tokens":[1]}`), kind: 'long-array' };
    if (r === 13) {
      const valid = JSON.stringify(VALID[route]!());
      return { body: Buffer.from(valid.slice(0, this.#int(valid.length))), kind: 'truncated' };
    }
    if (r === 14) return { body: Buffer.from(Array.from({ length: 1 + this.#int(300) }, () => this.#int(256))), kind: 'random-bytes' };
    if (r === 15)
      return {
        body: Buffer.from('{"inputs":"\\ud800\\udc00\\uDFFF","messages":[{"role":"user","content":"\\u0000"}],"prompt":"\\ud83d"}'),
        kind: 'surrogates',
      };
    if (r === 16)
      return {
        body: Buffer.from(
          '{"__proto__":{"stream":true,"role":"x"},"constructor":{"prototype":{}},"inputs":"a","messages":[{"role":"user","content":"x","__proto__":null}]}',
        ),
        kind: 'proto',
      };
    if (r === 17)
      return {
        body: json({ ...(VALID[route]!() as object), messages: [{ role: 'user', content: [null] }], tools: [null], stop: [null], parameters: null }),
        kind: 'nulls',
      };
    if (r === 18) return { body: Buffer.from(' '), kind: 'blank' };
    return { body: Buffer.from(`{"inputs":"${'a'.repeat(1 + this.#int(200_000))}","prompt":"b"}`), kind: 'long-string' };
  }

  /** One hostile request: a hostile body, and one time in four hostile headers around it. */
  next(): HostileRequest {
    const route = this.#pick(POST_ROUTES);
    const { body, kind } = this.#bodyBytes(route);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const h = this.#int(16);
    if (h === 0)
      headers['content-type'] = this.#pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', 'application', '*/*']);
    else if (h === 1) headers['content-type'] = `application/json; charset=${this.#pick(['latin1', 'utf-16', 'UTF-16LE', 'ascii', '"utf-8"', 'UTF-8', 'x'])}`;
    else if (h === 2) delete headers['content-type'];
    else if (h === 3)
      return { route, headers: { ...headers, 'content-encoding': this.#pick(['gzip', 'br', 'deflate']) }, body, kind: `${kind}+encoding-garbage` };
    else if (h === 4) {
      const enc = this.#pick(['gzip', 'br', 'deflate'] as const);
      const packed = enc === 'gzip' ? gzipSync(body) : enc === 'br' ? brotliCompressSync(body) : deflateSync(body);
      return { route, headers: { ...headers, 'content-encoding': enc }, body: packed, kind: `${kind}+${enc}` };
    } else if (h === 5) headers['content-encoding'] = this.#pick(['compress', 'zstd', 'identity, gzip', 'x-unknown']);
    return { route, headers, body, kind };
  }
}
