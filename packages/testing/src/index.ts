// @module @tessera/testing: helpers shared by tests across packages and services — never imported by production code.
export { freePort } from './ports.ts';
export { ReferenceCache, ReferenceLlama } from './llama-fp64.ts';
export { ReferenceMoeMlp } from './moe-fp64.ts';
export { SMALL_CONFIG, presetShape, randomLlamaModel, randomQuantizedModel, tensorShapes, uniformSource, type RandomQuantLayout } from './random-model.ts';
// Hand-built tokenizers (no ../shared needed); they live beside the tokenizer code they mirror.
export { syntheticByteLevelFiles, syntheticSentencePieceFiles, type SentencePieceOptions } from './synthetic-tokenizers.ts';
export { chatTemplateFixture, chatTemplateFixturePath } from './chat-template-fixtures.ts';
