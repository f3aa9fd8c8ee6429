// @module The shard's live batches, keyed by batch id.
import { InvalidRequestError } from '../errors.ts';
import type { Batch } from './batch.ts';

export class BatchCache {
  readonly #batches = new Map<number, Batch>();

  set(batch: Batch): void {
    this.#batches.set(batch.id, batch);
  }

  /** Removes and returns a batch; unknown ids are a client error. */
  take(id: number): Batch {
    const batch = this.#batches.get(id);
    if (batch === undefined) throw new InvalidRequestError(`batch ${id} not found in cache`);
    this.#batches.delete(id);
    return batch;
  }

  has(id: number): boolean {
    return this.#batches.has(id);
  }

  delete(id: number): void {
    this.#batches.delete(id);
  }

  clear(): void {
    this.#batches.clear();
  }

  get size(): number {
    return this.#batches.size;
  }
}
