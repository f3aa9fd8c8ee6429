// @module Router options: parsed and checked once from the command line, token limits resolved from shard facts.
import { formatHelp, parseCommand, UsageError } from '@tessera/options';
import { ModelNotFoundError, resolveModelArg } from '@tessera/model-files';
import { InvalidArgumentError } from './errors.ts';
import { parseEdgeOptions, type EdgeOptions } from './edge-options.ts';
import { ROUTER_COMMAND, ROUTER_OPTIONS } from './router-options.ts';

// The launcher checks router flags up front; this spares it loading the whole router for the error class.
export { InvalidArgumentError };

export { ROUTER_OPTIONS };

/** Everything `tessera router` accepts. Nullable limits are resolved from the model and warmup. */
export interface RouterOptions extends EdgeOptions {
  /** Model directory or .gguf file (tokenizer, chat template, generation defaults). Required. */
  modelId: string;
  /** What /info reports as model_id, as TGI does: `org/name` for a Hugging Face cache model, else the path. */
  modelLabel: string;
  /** gRPC addresses of the shards, rank order (`host:port` or `unix:/path`). Required. */
  shardUris: string[];
  /** HTTP port; 0 lets the OS pick one (logged in the ready line). Default 8080. */
  port: number;
  /** Address to bind. Default 127.0.0.1. */
  hostname: string;
  /** Model name echoed in OpenAI responses and /v1/models. Default: the basename of modelId. */
  servedModelName: string;
  /** A Jinja chat template file that replaces the model's own (`--chat-template FILE`). */
  chatTemplateFile: string | null;
  /** Sampling defaults of the OpenAI routes from generation_config.json ('auto'), or none ('none'). Default 'auto'. */
  generationConfig: 'auto' | 'none';
  /** Requests in flight (queued + running) before answering 429. Default 128. */
  maxConcurrentRequests: number;
  /** Longest prompt in tokens. Default: maxTotalTokens - 1. */
  maxInputTokens: number | null;
  /** Longest prompt + generation in tokens. Default: min(max_position_embeddings, 4096, KV capacity). */
  maxTotalTokens: number | null;
  /**
   * Most prompt tokens computed in one Prefill. A longer prompt is prefilled in chunks of at most this
   * many tokens, interleaved with decode steps (chunked prefill). Default: max(maxInputTokens + 50, 4096) capped to capacity.
   */
  maxBatchPrefillTokens: number | null;
  /** Most tokens (prompt + generation) a running batch may hold. Default: the capacity warmup reports. */
  maxBatchTotalTokens: number | null;
  /** Most requests in one batch. Default: unlimited (bounded by tokens and blocks). */
  maxBatchSize: number | null;
  /** A new batch joins a running one only if it has ≥ ratio × running size entries (unless starved). Default 0.3. */
  waitingServedRatio: number;
  /** Decode steps after which waiting requests are prefilled regardless of the ratio. Default 20. */
  maxWaitingTokens: number;
  /** Inputs per client request, reported by /info (only 1 is accepted for now). Default 4. */
  maxClientBatchSize: number;
  /**
   * Worker threads that render chat templates and tokenize prompts, so a huge prompt never blocks the
   * event loop (TGI's --validation-workers). 0 = on the event loop. Default 2.
   */
  validationWorkers: number;
  /** Reuse KV blocks of shared prompt prefixes. Default true (`--disable-prefix-caching` turns it off). */
  prefixCaching: boolean;
  /** Let the shards step a running batch on their own (DecodeStream). Default true (`--disable-continuous-decode`). */
  continuousDecode: boolean;
  /** pino level. Default 'info'. */
  logLevel: string;
  /** Put prompt and output text into the request log lines. Default false (`--log-prompts`). */
  logPrompts: boolean;
  /** Seconds SIGTERM waits for in-flight requests before failing them. Default 30. */
  shutdownTimeoutSeconds: number;
  /** Seconds start-up waits for every shard to listen (the launcher passes its --startup-timeout). Default 120. */
  shardConnectTimeoutSeconds: number;
}

/** `tessera router --help`. */
export function routerHelp(): string {
  return formatHelp(ROUTER_COMMAND);
}

function intOption(name: string, raw: string | undefined, min: number): number | null {
  if (raw === undefined) return null;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) {
    throw new InvalidArgumentError(`--${name} must be an integer ≥ ${min}, got '${raw}'`);
  }
  return v;
}

/**
 * Parses `tessera router …` arguments (without the subcommand) and, when `env` is given, TESSERA_<FLAG>
 * variables. Throws InvalidArgumentError with a one-line message naming the flag.
 */
export function parseRouterArgs(argv: string[], env: NodeJS.ProcessEnv = {}): RouterOptions {
  let parsed: Map<string, string>;
  try {
    parsed = parseCommand(ROUTER_COMMAND, argv, env).values;
  } catch (err) {
    if (err instanceof UsageError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  const values: Record<string, string | boolean | undefined> = Object.fromEntries(
    [...parsed].map(([k, v]) => [k, ROUTER_OPTIONS[k as keyof typeof ROUTER_OPTIONS].type === 'boolean' ? true : v]),
  );
  const str = (k: string) => values[k] as string | undefined;
  const given = str('model-id');
  if (!given) throw new InvalidArgumentError('--model-id is required (an HF directory, a .gguf file or org/name from the Hugging Face cache)');
  let model;
  try {
    model = resolveModelArg(given);
  } catch (err) {
    if (err instanceof ModelNotFoundError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  const modelId = model.path;
  const shardUris = (str('shard-uris') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (shardUris.length === 0) throw new InvalidArgumentError('--shard-uris is required (HOST:PORT of each shard, comma-separated)');
  const ratioRaw = str('waiting-served-ratio') ?? '0.3';
  const waitingServedRatio = Number(ratioRaw);
  if (!Number.isFinite(waitingServedRatio) || waitingServedRatio < 0) {
    throw new InvalidArgumentError(`--waiting-served-ratio must be a number ≥ 0, got '${ratioRaw}'`);
  }
  const generationConfig = str('generation-config') ?? 'auto';
  if (generationConfig !== 'auto' && generationConfig !== 'none') {
    throw new InvalidArgumentError(`--generation-config must be 'auto' or 'none', got '${generationConfig}'`);
  }
  const port = intOption('port', str('port'), 0) ?? 8080;
  if (port > 65535) throw new InvalidArgumentError(`--port must be ≤ 65535, got ${port}`);
  return {
    modelId,
    modelLabel: model.repoId ?? modelId,
    shardUris,
    port,
    hostname: str('hostname') ?? '127.0.0.1',
    servedModelName: str('served-model-name') ?? model.servedName,
    chatTemplateFile: str('chat-template') ?? null,
    generationConfig,
    maxConcurrentRequests: intOption('max-concurrent-requests', str('max-concurrent-requests'), 1) ?? 128,
    maxInputTokens: intOption('max-input-tokens', str('max-input-tokens'), 1),
    maxTotalTokens: intOption('max-total-tokens', str('max-total-tokens'), 2),
    maxBatchPrefillTokens: intOption('max-batch-prefill-tokens', str('max-batch-prefill-tokens'), 1),
    maxBatchTotalTokens: intOption('max-batch-total-tokens', str('max-batch-total-tokens'), 2),
    maxBatchSize: intOption('max-batch-size', str('max-batch-size'), 1),
    waitingServedRatio,
    maxWaitingTokens: intOption('max-waiting-tokens', str('max-waiting-tokens'), 0) ?? 20,
    maxClientBatchSize: intOption('max-client-batch-size', str('max-client-batch-size'), 1) ?? 4,
    validationWorkers: intOption('validation-workers', str('validation-workers'), 0) ?? 2,
    prefixCaching: values['disable-prefix-caching'] !== true,
    continuousDecode: values['disable-continuous-decode'] !== true,
    logLevel: str('log-level') ?? 'info',
    logPrompts: values['log-prompts'] === true,
    shutdownTimeoutSeconds: intOption('shutdown-timeout', str('shutdown-timeout'), 0) ?? 30,
    shardConnectTimeoutSeconds: intOption('shard-connect-timeout', str('shard-connect-timeout'), 1) ?? 120,
    ...parseEdgeOptions(values),
  };
}

/** Token limits every request is validated against, and the budgets the batcher uses. */
export interface TokenLimits {
  maxInputTokens: number;
  maxTotalTokens: number;
  maxBatchPrefillTokens: number;
  maxBatchTotalTokens: number;
  maxBatchSize: number | null;
}

/** Limits sent to Warmup: before the KV capacity is known, from the options and the model context. */
export function limitsBeforeWarmup(opts: RouterOptions, maxPositionEmbeddings: number): Omit<TokenLimits, 'maxBatchTotalTokens'> {
  const context = maxPositionEmbeddings > 0 ? maxPositionEmbeddings : 4096;
  const maxTotalTokens = opts.maxTotalTokens ?? Math.min(context, 4096);
  const maxInputTokens = opts.maxInputTokens ?? maxTotalTokens - 1;
  if (maxInputTokens >= maxTotalTokens) {
    throw new InvalidArgumentError(`--max-input-tokens (${maxInputTokens}) must be < --max-total-tokens (${maxTotalTokens})`);
  }
  if (maxTotalTokens > context) {
    throw new InvalidArgumentError(`--max-total-tokens (${maxTotalTokens}) exceeds the model's context (max_position_embeddings ${context})`);
  }
  // May be below max-input-tokens: longer prompts are prefilled in chunks (chunked prefill).
  const maxBatchPrefillTokens = opts.maxBatchPrefillTokens ?? Math.max(maxInputTokens + 50, 4096);
  return { maxInputTokens, maxTotalTokens, maxBatchPrefillTokens, maxBatchSize: opts.maxBatchSize };
}

/** Final limits once warmup has reported the KV capacity (in tokens). */
export function limitsAfterWarmup(opts: RouterOptions, before: Omit<TokenLimits, 'maxBatchTotalTokens'>, capacityTokens: number): TokenLimits {
  const maxBatchTotalTokens = Math.min(opts.maxBatchTotalTokens ?? capacityTokens, capacityTokens);
  let { maxInputTokens, maxTotalTokens, maxBatchPrefillTokens } = before;
  if (maxTotalTokens > maxBatchTotalTokens) {
    if (opts.maxTotalTokens !== null) {
      throw new InvalidArgumentError(`--max-total-tokens (${maxTotalTokens}) exceeds the batch capacity (${maxBatchTotalTokens} tokens)`);
    }
    maxTotalTokens = maxBatchTotalTokens;
    if (opts.maxInputTokens === null) maxInputTokens = maxTotalTokens - 1;
    if (maxInputTokens >= maxTotalTokens) {
      throw new InvalidArgumentError(`--max-input-tokens (${maxInputTokens}) must be < max total tokens (${maxTotalTokens}, capped by KV capacity)`);
    }
  }
  maxBatchPrefillTokens = Math.min(maxBatchPrefillTokens, maxBatchTotalTokens);
  return { maxInputTokens, maxTotalTokens, maxBatchPrefillTokens, maxBatchTotalTokens, maxBatchSize: before.maxBatchSize };
}
