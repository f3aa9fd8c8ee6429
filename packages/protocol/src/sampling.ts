// @module Greedy or sampled, and with which seed: one reading of the wire's sampling fields for router and shard.
import type { NextTokenChooserParameters } from './index.ts';

type SamplingFields = Pick<NextTokenChooserParameters, 'doSample' | 'temperature' | 'seed'>;

/** The shard takes the argmax unless do_sample is set or the temperature is above 0 (TGI's NextTokenChooser). */
export function isGreedy(p: Pick<NextTokenChooserParameters, 'doSample' | 'temperature'>): boolean {
  return !p.doSample && !(p.temperature > 0);
}

/**
 * The wire fields for the router's decision: sampling at `temperature` with `seed`, or greedy (temperature
 * 0, seed 0), so that isGreedy() on the shard reads back exactly that decision.
 */
export function samplingFields(sample: boolean, temperature: number, seed: number | null): SamplingFields {
  return sample ? { doSample: true, temperature, seed: seed ?? 0 } : { doSample: false, temperature: 0, seed: 0 };
}

/**
 * The seed a chooser runs with: a sampling request's seed as given, 0 included (the router always sends
 * the seed it reports); a greedy request without one gets `fresh()`, only reported.
 */
export function chooserSeed(p: SamplingFields, fresh: () => number): number {
  return isGreedy(p) && !(p.seed > 0) ? fresh() : p.seed;
}
