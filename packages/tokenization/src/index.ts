// @module @tessera/tokenization: tokenizer, chat templates, streaming detokenizer and stop strings for the router.
export { TextTokenizer } from './tokenizer.ts';
export type { EncodeOptions, DecodeOptions, GrammarVocabulary } from './tokenizer.ts';
export { ChatTemplate, ChatTemplateError, NO_CHAT_TEMPLATE_MESSAGE } from './chat-template.ts';
export type { ChatMessage, ChatContentPart, RenderOptions } from './chat-template.ts';
export { IncrementalDetokenizer } from './detokenizer.ts';
export type { DetokenizerOptions } from './detokenizer.ts';
export { StopStringMatcher } from './stop-strings.ts';
export type { StopPushResult } from './stop-strings.ts';
export { strftime } from './strftime.ts';
export { byteLevelDecodeTable } from './token-bytes.ts';
