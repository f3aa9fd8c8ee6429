// @module The per-HTTP-request record (id, what the request-log line reports), carried by AsyncLocalStorage.
import { AsyncLocalStorage } from 'node:async_hooks';

/** What a generation adds to its request's completion log line (filled by Infer at the end). */
export interface GenerationRecord {
  outcome: string;
  inputTokens: number;
  generatedTokens: number;
  queueMs?: number;
  firstTokenMs?: number;
  inferenceMs?: number;
  perTokenMs?: number;
  /** Only with --log-prompts. */
  prompt?: string;
  /** Only with --log-prompts. */
  output?: string;
}

export interface RequestRecord {
  readonly requestId: string;
  /** Whether prompt and output text may be logged (--log-prompts). */
  readonly logPrompts: boolean;
  generation?: GenerationRecord;
}

/**
 * Set by the request-log middleware around the route handlers; Infer.generate reads it (synchronously,
 * at admission) so the request's completion line can carry its timings without threading ids through
 * every route.
 */
export const requestContext = new AsyncLocalStorage<RequestRecord>();
