// @module One default Tessera (generated model, default flags) shared by the test files that only send it traffic: test/run.mjs starts it once for the whole run; a file run alone starts its own.
import { readFileSync } from 'node:fs';
import { startCluster } from './cluster.ts';

/** What a file may do with the shared cluster: send requests. Stopping it is the runner's job. */
export interface SharedCluster {
  url: string;
  /** Stops the cluster when this file started it; a no-op on the runner's. */
  stop(): Promise<void>;
}

/** Set by test/run.mjs: the shared cluster's URL and the file its launcher writes its output to. */
const URL_ENV = 'TESSERA_TEST_SHARED_CLUSTER_URL';
const LOG_ENV = 'TESSERA_TEST_SHARED_CLUSTER_LOG';

/** The runner's cluster once its /health answers, or a cluster of this file's own. */
export async function sharedCluster(timeoutMs = 180_000): Promise<SharedCluster> {
  const url = process.env[URL_ENV];
  if (url === undefined || url === '') return startCluster();
  const deadline = Date.now() + timeoutMs;
  while (
    !(await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) {
      const log = process.env[LOG_ENV] ? readFileSync(process.env[LOG_ENV], 'utf8').slice(-4000) : '';
      throw new Error(`the shared cluster at ${url} is not healthy after ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, stop: async () => {} };
}
