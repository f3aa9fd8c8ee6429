// @module Shard side: compiled grammars per vocabulary (cached by wire text) and one matcher per constrained request.
import type { GrammarVocabulary } from '@tessera/tokenization';
import type { CompiledGrammar, GrammarCompiler, GrammarMatcher } from '@mlc-ai/web-xgrammar';
import { GrammarError, Xgrammar } from './xgrammar.ts';

/** Compiled grammars kept (a cold compile takes ms, or seconds with length bounds at a large vocabulary — docs/structured-output.md; the same schema repeats across requests). */
const COMPILED_CACHE_SIZE = 64;

/** Bit `id` of a token bitmask (xgrammar's layout: 32 ids per int32 word, lowest bit first). */
export function allowed(mask: Int32Array, id: number): boolean {
  return ((mask[id >>> 5]! >>> (id & 31)) & 1) === 1;
}

/** How many ids a mask allows among the first `vocabSize`. */
export function allowedCount(mask: Int32Array, vocabSize: number): number {
  let n = 0;
  for (let id = 0; id < vocabSize; id++) if (allowed(mask, id)) n++;
  return n;
}

export class GrammarMatchers {
  readonly #compiled = new Map<string, Promise<CompiledGrammar>>();

  private constructor(
    readonly xg: Xgrammar,
    readonly compiler: GrammarCompiler,
    /** Rows of a logits tensor: masks cover ids 0..vocabSize-1 (ids past the tokenizer's are never allowed). */
    readonly vocabSize: number,
  ) {}

  static async create(vocab: GrammarVocabulary, vocabSize: number): Promise<GrammarMatchers> {
    const xg = new Xgrammar();
    const info = await xg.call((lib) => lib.TokenizerInfo.createTokenizerInfo(vocab.pieces, vocab.kind, false, vocabSize));
    const compiler = await xg.call((lib) => lib.GrammarCompiler.createGrammarCompiler(info));
    return new GrammarMatchers(xg, compiler, vocabSize);
  }

  /** A matcher for one request; `stopIds` end the output once the grammar is complete. Rejects with GrammarError. */
  async matcher(wire: string, stopIds: readonly number[]): Promise<TokenMatcher> {
    const compiled = await this.#compile(wire);
    const m = await this.xg.call((lib) => lib.GrammarMatcher.createGrammarMatcher(compiled, [...stopIds]));
    return new TokenMatcher(m);
  }

  #compile(wire: string): Promise<CompiledGrammar> {
    const hit = this.#compiled.get(wire);
    if (hit !== undefined) {
      this.#compiled.delete(wire);
      this.#compiled.set(wire, hit);
      return hit;
    }
    const compiled = this.xg.call(() => this.compiler.compileStructuralTag(wire));
    compiled.catch(() => {});
    this.#compiled.set(wire, compiled);
    if (this.#compiled.size > COMPILED_CACHE_SIZE) {
      const oldest = this.#compiled.keys().next().value!;
      const evicted = this.#compiled.get(oldest)!;
      this.#compiled.delete(oldest);
      // Live matchers keep their own reference to the native grammar (shared_ptr), so disposing is safe.
      evicted.then(
        (c) => c.dispose(),
        () => {},
      );
    }
    return compiled;
  }
}

/** One request's position in its grammar. */
export class TokenMatcher {
  #terminated = false;
  constructor(readonly m: GrammarMatcher) {}

  /** The ids allowed next (see allowed()). */
  mask(): Promise<Int32Array> {
    return this.m.getNextTokenBitmask();
  }

  /** Advances by one token; false when the grammar does not allow it (the caller ends the request). */
  accept(id: number): boolean {
    const ok = this.m.acceptToken(id);
    if (ok && this.m.isTerminated()) this.#terminated = true;
    return ok;
  }

  /** True once a stop token was accepted with the grammar complete. */
  get terminated(): boolean {
    return this.#terminated;
  }

  dispose(): void {
    this.m.dispose();
  }
}

export { GrammarError };
