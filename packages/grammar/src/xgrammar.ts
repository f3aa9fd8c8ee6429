// @module xgrammar (WASM build, @mlc-ai/web-xgrammar) loaded as an instance whose native errors become JavaScript errors with their message.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The subset of @mlc-ai/web-xgrammar that Tessera uses (its own .d.ts types the classes). */
export type XgrammarModule = typeof import('@mlc-ai/web-xgrammar');

const require = createRequire(import.meta.url);

/**
 * One xgrammar instance. Why not `import`: the package ships a UMD bundle under `"type": "module"`,
 * which Node cannot import, and its native failures print a `[FATAL] file:line: message` line to
 * console.error and then abort with a bare "Aborted()". Evaluating the bundle ourselves as CommonJS
 * with a console of our own keeps that message for the error (thrown as GrammarError), and lets a
 * caller start a fresh instance after many aborts: each leaks what the unwound C++ frames held.
 */
export class Xgrammar {
  readonly lib: XgrammarModule;
  /** Native aborts so far (each leaks a little WASM memory). */
  aborts = 0;
  #lastFatal = '';

  constructor() {
    const file = require.resolve('@mlc-ai/web-xgrammar');
    const source = fs.readFileSync(file, 'utf8');
    const module = { exports: {} as XgrammarModule };
    const quiet = {
      ...console,
      log: () => {},
      error: (...args: unknown[]) => {
        const text = args.map(String).join(' ');
        const fatal = /\[FATAL\][^:]*:\d+: (.*)$/s.exec(text);
        if (fatal !== null) this.#lastFatal = fatal[1]!.trim();
      },
      warn: () => {},
    };
    // The bundle reads `console`, `require` and `__filename` as free variables (emscripten's Node path).
    const evaluate = new Function('exports', 'require', 'module', '__filename', '__dirname', 'console', source);
    evaluate(module.exports, createRequire(file), module, file, path.dirname(file), quiet);
    this.lib = module.exports;
  }

  /** Runs a native call; an abort becomes a GrammarError carrying xgrammar's own message. */
  async call<T>(fn: (lib: XgrammarModule) => Promise<T> | T): Promise<T> {
    this.#lastFatal = '';
    try {
      return await fn(this.lib);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError || /Aborted\(/.test(String((err as Error)?.message ?? err))) {
        this.aborts++;
        throw new GrammarError(cleanMessage(this.#lastFatal || 'the grammar engine rejected the constraint'));
      }
      // A C++ exception crosses into JavaScript as a bare number (the exception's address).
      if (typeof err === 'number') {
        this.aborts++;
        throw new GrammarError('the grammar engine could not compile this combination of constraints');
      }
      throw err;
    }
  }
}

/** A constraint the engine refuses: bad JSON schema, regex or grammar text. `message` is for the client. */
export class GrammarError extends Error {
  override name = 'GrammarError';
}

/** xgrammar's "Check failed: (expr) is false: reason" → "reason". */
function cleanMessage(text: string): string {
  const reason = /Check failed: .* is false: (.*)$/s.exec(text);
  return (reason?.[1] ?? text).trim();
}
