// @module README.md for a generated model directory: says loudly that it is an untrained test model.

import type { GeneratedModelSpec } from './presets.ts';

export interface ModelCardFacts {
  preset: string;
  seed: number;
  formatVersion: number;
  architecture: string;
  parameterCount: number;
  mergeCount: number;
  reservedCount: number;
}

export function generatedModelReadme(spec: GeneratedModelSpec, facts: ModelCardFacts): string {
  const millions = (facts.parameterCount / 1e6).toFixed(2);
  return `# Tessera generated test model (preset "${facts.preset}")

**This is not a trained language model.** Tessera wrote this directory so that \`npm start\` has
something to serve on a machine with no downloads. The weights are random numbers from a fixed
seed, so the model produces fluent-looking nonsense. Use \`--model-id\` with a real Hugging Face
directory or GGUF file for real output.

## What is in it
- \`config.json\`: ${facts.architecture}, marked \`"tessera_generated": true\`.
- \`model.safetensors\`: ${millions} M float32 parameters. ${spec.attentionBias ? 'Linear, embedding and bias' : 'Linear and embedding'}
  weights are drawn with mean 0 and std ${spec.initStd} (an Irwin–Hall approximation of a normal
  from xoshiro128**, seeded per tensor from seed ${facts.seed} and the tensor name); RMSNorm weights are 1.
- \`tokenizer.json\`: a real byte-level BPE (GPT-2 style) trained by Tessera on a small embedded
  English corpus: ${facts.mergeCount} merges, ${spec.vocabSize} tokens in all${
    facts.reservedCount > 0 ? `, of which ${facts.reservedCount} are \`<|reserved_N|>\` fill` : ''
  }. Ids 0, 1, 2 are \`<|endoftext|>\`, \`<|im_start|>\`, \`<|im_end|>\`.
- \`tokenizer_config.json\`: a ChatML chat template; no BOS token is added.
- \`generation_config.json\`: generation stops at \`<|im_end|>\` or \`<|endoftext|>\`.

## Shape
| field | value |
|---|---|
| hidden size | ${spec.hiddenSize} |
| layers | ${spec.numLayers} |
| attention heads / KV heads / head dim | ${spec.numHeads} / ${spec.numKvHeads} / ${spec.headDim} |
| MLP size | ${spec.intermediateSize} |
| vocabulary | ${spec.vocabSize} |
| max positions | ${spec.maxPositionEmbeddings} |
| rope theta | ${spec.ropeTheta} |
| tied embeddings | ${spec.tieWordEmbeddings} |

Generator format version ${facts.formatVersion}. The same preset, seed and version always give
byte-identical files.
`;
}
