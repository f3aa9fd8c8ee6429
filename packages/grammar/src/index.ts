// @module @tessera/grammar: constrained decoding (JSON schema, regex, choice, EBNF, tool-call tags) on xgrammar's WASM build.
export { type Constraint, type StructuralTagFormat, constraintFormat, wireGrammar } from './constraint.ts';
export { unproductiveRules } from './productive.ts';
export { allowed, allowedCount, GrammarMatchers, TokenMatcher } from './token-masks.ts';
export { ConstraintCompiler } from './validator.ts';
export { GrammarError, Xgrammar } from './xgrammar.ts';
