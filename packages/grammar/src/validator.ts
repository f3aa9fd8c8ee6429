// @module Router side: a constraint → its checked wire grammar (or a GrammarError for a 400), cached by value.
import { type Constraint, constraintFormat, wireGrammar } from './constraint.ts';
import { unproductiveRules } from './productive.ts';
import { GrammarError, Xgrammar } from './xgrammar.ts';

/** Distinct constraints whose outcome (wire grammar or error) is kept. */
const CACHE_SIZE = 256;
/** A fresh engine after this many native aborts (each leaks a little WASM memory). */
const ABORTS_PER_INSTANCE = 64;

/**
 * Turns constraints into the grammar the shards compile, refusing what cannot work: a schema,
 * regex or grammar xgrammar rejects, and a grammar with a rule that can never finish (such a
 * generation could only end at max_tokens). No tokenizer is needed; compiling against the
 * vocabulary is the shard's job.
 */
export class ConstraintCompiler {
  #xg = new Xgrammar();
  readonly #cache = new Map<string, Promise<string>>();

  /** The wire grammar (NextTokenChooserParameters.grammar); rejects with GrammarError. */
  wire(c: Constraint): Promise<string> {
    const key = JSON.stringify(c);
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit;
    }
    const result = this.#compile(c);
    result.catch(() => {}); // the caller sees the rejection; the cache must not count as unhandled
    this.#cache.set(key, result);
    if (this.#cache.size > CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    return result;
  }

  async #compile(c: Constraint): Promise<string> {
    if (this.#xg.aborts >= ABORTS_PER_INSTANCE) this.#xg = new Xgrammar();
    const xg = this.#xg;
    const wire = wireGrammar(await constraintFormat(xg, c));
    const grammar = await xg.call((lib) => lib.Grammar.fromStructuralTag(wire));
    const printed = grammar.toString();
    grammar.dispose();
    const dead = unproductiveRules(printed);
    if (dead.length > 0) throw new GrammarError(`the grammar can never finish: rule \`${dead[0]}\` has no finite expansion`);
    return wire;
  }
}
