// @module Test harness: a whole router (startRouter) over a ScriptedShard and a synthetic tokenizer, on free ports.
import { pino, type Logger } from 'pino';
import { syntheticSentencePieceFiles } from '@tessera/testing';
import { parseRouterArgs, type RouterOptions } from '../config.ts';
import { startRouter, type RunningRouter } from '../main.ts';
import { startScriptedShard, type ScriptedShard, type ScriptedShardOptions } from './scripted-shard.ts';

/** stories260K's plain template: BOS, then the message contents joined by newlines. */
export const TEST_CHAT_TEMPLATE = "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% if not loop.last %}{{ '\\n' }}{% endif %}{% endfor %}";

export interface TestRouter {
  url: string;
  shard: ScriptedShard;
  router: RunningRouter;
  close(): Promise<void>;
}

export interface TestRouterOptions {
  shard?: ScriptedShardOptions;
  /** Extra `tessera router` flags, e.g. ['--max-concurrent-requests', '2']. */
  args?: string[];
  chatTemplate?: string | null;
  /** Default: silent. */
  logger?: Logger;
}

/**
 * The synthetic SentencePiece tokenizer has 305 tokens: <unk>=0, <s>=1, </s>=2 (EOS), bytes 3..258,
 * "▁"=259, "a".."z"=260..285, then "H" "T" "O" "é" "," "." "!" and merges up to 304. With the scripted
 * shard's default model (next id = last + 1 mod 305), a prompt ending in "a" continues "bcdef…".
 */
export async function startTestRouter(opts: TestRouterOptions = {}): Promise<TestRouter> {
  const files = syntheticSentencePieceFiles();
  const shardRun = await startScriptedShard({ vocabSize: 305, ...opts.shard });
  const routerOpts: RouterOptions = parseRouterArgs([
    '--model-id',
    'synthetic',
    '--shard-uris',
    shardRun.uri,
    '--port',
    '0',
    '--served-model-name',
    'test-model',
    ...(opts.args ?? []),
  ]);
  const logger = opts.logger ?? pino({ level: 'silent' });
  const router = await startRouter(routerOpts, logger, {
    tokenizer: { ...files, chatTemplate: opts.chatTemplate === undefined ? TEST_CHAT_TEMPLATE : opts.chatTemplate },
    generation: {},
    eosTokenIds: [2],
  });
  return {
    url: router.url,
    shard: shardRun.shard,
    router,
    close: async () => {
      await router.close();
      await shardRun.close();
    },
  };
}
