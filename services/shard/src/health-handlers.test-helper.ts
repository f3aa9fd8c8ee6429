// @module Test helper: shard handlers whose Health follows a flag and whose other RPCs are not used (probe tests).
import type { ShardHandlers } from '@tessera/protocol';

const notUsed = () => Promise.reject(new Error('not used'));

export function healthOnlyHandlers(healthy: () => boolean): ShardHandlers {
  return {
    info: notUsed,
    health: async () => {
      if (!healthy()) throw new Error('runner gone');
      return { instanceId: 'test', warmedUp: true };
    },
    warmup: notUsed,
    prefill: notUsed,
    decode: notUsed,
    decodeStream: () => ({ control: () => undefined, done: notUsed() }),
    filterBatch: notUsed,
    clearCache: notUsed,
  };
}
