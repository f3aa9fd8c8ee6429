// @module The request-body edge: UTF-8 `application/json` only, known Content-Encodings, bounded size, depth and array lengths.
import express, { type RequestHandler } from 'express';
import { RouterError } from '../errors.ts';
import { offloadLargeJson } from './offload-json.ts';

export interface JsonBodyLimits {
  /** Largest accepted body after decompression, in bytes or as '16mb'. */
  maxBytes: string | number;
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
  /** Most elements of any one array in the body. */
  maxArrayLength: number;
}

/**
 * Depth 64 is far beyond any API shape (chat content parts are depth 5) yet keeps every recursive
 * consumer (templates, JSON.stringify, validators) far from the stack limit. 262,144 elements covers
 * token-id prompts of any context length we serve.
 */
export const DEFAULT_JSON_BODY_LIMITS: JsonBodyLimits = { maxBytes: '16mb', maxDepth: 64, maxArrayLength: 262_144 };

const JSON_TYPE = /^application\/(?:json|[\w.+-]+\+json)$/;

/** Media type and charset of a Content-Type header (lower case, charset unquoted). */
export function parseContentType(header: string): { type: string; charset: string | null } {
  const [type = '', ...params] = header.split(';');
  let charset: string | null = null;
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq !== -1 && p.slice(0, eq).trim().toLowerCase() === 'charset') {
      charset = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
    }
  }
  return { type: type.trim().toLowerCase(), charset };
}

function hasBody(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** 415 for anything but UTF-8 JSON. Requests without a body pass (the route then says what is missing). */
function checkMediaType(contentType: string | undefined): RouterError | null {
  if (contentType === undefined) {
    return new RouterError('unsupported_media_type', 'request bodies must be sent as `Content-Type: application/json`');
  }
  const { type, charset } = parseContentType(contentType);
  if (!JSON_TYPE.test(type)) {
    return new RouterError('unsupported_media_type', `unsupported Content-Type '${type.slice(0, 100)}': send \`application/json\``);
  }
  if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
    return new RouterError('unsupported_media_type', `unsupported charset '${charset.slice(0, 40)}': JSON bodies must be UTF-8`);
  }
  return null;
}

/**
 * One pass over the raw bytes before JSON.parse, so a hostile body is refused before it is
 * materialised: nesting deeper than maxDepth, or an array with more than maxArrayLength elements
 * (counted by commas at the array's own level; exact for valid JSON, which is all that parses).
 */
export function checkJsonShape(buf: Uint8Array, limits: Pick<JsonBodyLimits, 'maxDepth' | 'maxArrayLength'>): void {
  const isArray = new Uint8Array(limits.maxDepth + 1);
  const count = new Uint32Array(limits.maxDepth + 1);
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (depth === limits.maxDepth) {
        throw new RouterError('bad_request', `request body is nested deeper than ${limits.maxDepth} levels`);
      }
      depth++;
      isArray[depth] = c === 0x5b ? 1 : 0;
      count[depth] = 1;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    } else if (c === 0x2c && depth > 0 && isArray[depth] === 1) {
      if (++count[depth]! > limits.maxArrayLength) {
        throw new RouterError('bad_request', `request body has an array longer than ${limits.maxArrayLength} elements`);
      }
    }
  }
}

/** body-parser's error → the router's coded error (never its raw message for unknown kinds). */
function bodyError(err: unknown, contentEncoding: string | undefined): RouterError {
  if (err instanceof RouterError) return err;
  const e = err as { type?: string; message?: string; status?: number };
  switch (e?.type) {
    case 'charset.unsupported':
      return new RouterError('unsupported_media_type', 'JSON bodies must be UTF-8');
    case 'encoding.unsupported':
      return new RouterError('unsupported_media_type', `unsupported Content-Encoding '${String(contentEncoding).slice(0, 40)}': use gzip, deflate, br or none`);
    case 'entity.too.large':
      return new RouterError('payload_too_large', 'request body is too large');
    case 'entity.parse.failed':
      return new RouterError('bad_request', `request body is not valid JSON: ${e.message ?? ''}`.slice(0, 300));
    case 'request.aborted':
      return new RouterError('bad_request', 'the request body ended early');
    case 'request.size.invalid':
      return new RouterError('bad_request', 'request body size does not match Content-Length');
  }
  if (contentEncoding !== undefined && contentEncoding !== 'identity') {
    return new RouterError('bad_request', `request body could not be decoded as Content-Encoding '${contentEncoding.slice(0, 40)}'`);
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new RouterError('bad_request', 'request body could not be read');
  return new RouterError('internal', e?.message ?? String(err));
}

/**
 * Parses POST (and other non-GET) bodies as JSON into req.body. GET and HEAD bodies are ignored.
 * Failures become RouterErrors: 415 (media type, charset, encoding), 413 (size), 400 (the rest).
 */
export function jsonBody(limits: JsonBodyLimits = DEFAULT_JSON_BODY_LIMITS, parseLarge?: (body: Uint8Array) => Promise<unknown>): RequestHandler {
  // Large plain bodies are parsed on the encoder's worker threads (offload-json.ts), after the same shape checks.
  const offload =
    parseLarge === undefined ? null : offloadLargeJson(parseLarge, { limitBytes: byteLimit(limits.maxBytes), check: (buf) => checkJsonShape(buf, limits) });
  const parse = express.json({
    limit: limits.maxBytes,
    type: () => true,
    strict: false,
    verify: (_req, _res, buf) => checkJsonShape(buf, limits),
  });
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !hasBody(req.headers)) return next();
    const refused = checkMediaType(req.headers['content-type']);
    if (refused !== null) {
      // Read the body off the socket so the 415 is not answered mid-upload (the client would see a reset).
      req.resume();
      return next(refused);
    }
    const encoding = req.headers['content-encoding']?.toLowerCase();
    const done = (err?: unknown) => next(err === undefined || err === null ? undefined : bodyError(err, encoding));
    if (offload === null) return parse(req, res, done);
    // offload-json leaves what it does not take (small, compressed, no Content-Length) to express.json.
    offload(req, res, (err?: unknown) => (err !== undefined && err !== null ? done(err) : (req as { _body?: boolean })._body ? done() : parse(req, res, done)));
  };
}

/** '16mb' / '512kb' / a number → bytes. */
function byteLimit(limit: string | number): number {
  if (typeof limit === 'number') return limit;
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(limit.trim());
  if (!m) throw new RangeError(`body limit ${limit} is not a size`);
  return Math.floor(Number(m[1]) * 1024 ** ['b', 'kb', 'mb', 'gb'].indexOf((m[2] ?? 'b').toLowerCase()));
}
