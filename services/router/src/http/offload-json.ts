// @module Large JSON bodies are parsed on the encoder's worker threads: JSON.parse of 1 MiB holds the event loop ~10 ms.
import type { RequestHandler } from 'express';
import { RouterError } from '../errors.ts';

export interface OffloadJsonOptions {
  /** Bodies with a Content-Length above this go to a worker; smaller ones are cheaper parsed here. Default 64 KiB. */
  thresholdBytes?: number;
  /** Largest accepted body (as express.json's limit). */
  limitBytes: number;
  /** Checks on the raw bytes before they are parsed (json-body.ts' depth and array limits); throws to refuse. */
  check?: (body: Uint8Array) => void;
}

/**
 * Reads a large, plain (no Content-Encoding, UTF-8) JSON body and parses it with `parse` off the event
 * loop, then marks it parsed so express.json skips it. Anything else (small, compressed, another
 * charset, no Content-Length) is left to express.json and its checks.
 */
export function offloadLargeJson(parse: (body: Uint8Array) => Promise<unknown>, opts: OffloadJsonOptions): RequestHandler {
  const threshold = opts.thresholdBytes ?? 64 * 1024;
  return (req, _res, next) => {
    const length = Number(req.headers['content-length']);
    const encoding = req.headers['content-encoding'];
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    const plain = (encoding === undefined || encoding === 'identity') && (charset === undefined || /^utf-?8$/i.test(charset));
    if (!(length > threshold) || length > opts.limitBytes || !plain || (req as { _body?: boolean })._body) return next();
    // One buffer of the announced size, filled as chunks arrive.
    const body = Buffer.allocUnsafe(length);
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      if (received + chunk.length > length) {
        received = Infinity;
        return;
      }
      body.set(chunk, received);
      received += chunk.length;
    });
    req.once('error', next);
    req.once('end', () => {
      if (received !== length) return next(new RouterError('bad_request', `request body length does not match Content-Length (${length})`));
      try {
        opts.check?.(body);
      } catch (err) {
        return next(err);
      }
      parse(body).then(
        (value) => {
          req.body = value;
          (req as { _body?: boolean })._body = true; // body-parser's own "already parsed" mark
          next();
        },
        (err: unknown) => next(err),
      );
    });
  };
}
