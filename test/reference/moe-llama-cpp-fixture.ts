// @module What the llama.cpp MoE fixture (moe-llama-cpp.json) was made from: the prompt, the step count and the GGUF forms.
export const MOE_FIXTURE_PROMPT = [12, 200, 31, 7, 99, 150, 3];
export const MOE_FIXTURE_STEPS = 16;
export const MOE_FIXTURE_FORMS = ['F32', 'Q8_0'] as const;

export interface MoeLlamaCppFixture {
  source: string;
  prompt_ids: number[];
  checkpoints: Record<string, { sha256: string; greedy_ids: number[]; top_logprobs: { id: number; logprob: number }[][] }>;
}
