// @module Everything `tessera launch` can check before loading a model: every shard and router flag, the model path, the ports.
import fs from 'node:fs';
import net from 'node:net';
import { ModelNotFoundError, resolveModelArg, type ResolvedModel } from '@tessera/model-files';
import { UsageError } from '@tessera/options';

/** Parses the flags a shard and the router would get, with their own parsers, so a bad one fails now (exit 2), not after loading. */
export async function checkChildFlags(shardArgv: string[], routerArgv: string[]): Promise<void> {
  const { parseShardArgs, ShardConfigError } = await import('@tessera/shard/config');
  const { parseRouterArgs, InvalidArgumentError } = await import('@tessera/router/config');
  try {
    parseShardArgs(shardArgv);
    parseRouterArgs(routerArgv);
  } catch (err) {
    if (err instanceof ShardConfigError || err instanceof InvalidArgumentError) throw new UsageError(err.message);
    throw err;
  }
}

/** The model to serve, resolved (Hugging Face cache included) and present on disk; a UsageError says what is missing. */
export function checkModel(given: string): ResolvedModel {
  let model: ResolvedModel;
  try {
    model = resolveModelArg(given);
  } catch (err) {
    if (err instanceof ModelNotFoundError) throw new UsageError(err.message);
    throw err;
  }
  if (!fs.existsSync(model.path)) throw new UsageError(`model not found: ${given} (an HF directory, a .gguf file, or org/name in the Hugging Face cache)`);
  return model;
}

/** Resolves when `port` can be bound on `host` right now; a UsageError naming the flag otherwise. */
export function checkPortFree(port: number, host: string, flag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'is already in use' : err.code === 'EACCES' ? 'needs privileges' : `cannot be bound (${err.code ?? err.message})`;
      reject(new UsageError(`port ${port} on ${host} ${why} (${flag}); choose another or stop what holds it`));
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}
