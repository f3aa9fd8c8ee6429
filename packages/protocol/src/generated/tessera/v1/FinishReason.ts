// Original file: proto/generate.proto

export const FinishReason = {
  FINISH_REASON_UNSPECIFIED: 'FINISH_REASON_UNSPECIFIED',
  FINISH_REASON_LENGTH: 'FINISH_REASON_LENGTH',
  FINISH_REASON_EOS_TOKEN: 'FINISH_REASON_EOS_TOKEN',
  FINISH_REASON_STOP_SEQUENCE: 'FINISH_REASON_STOP_SEQUENCE',
} as const;

export type FinishReason =
  | 'FINISH_REASON_UNSPECIFIED'
  | 0
  | 'FINISH_REASON_LENGTH'
  | 1
  | 'FINISH_REASON_EOS_TOKEN'
  | 2
  | 'FINISH_REASON_STOP_SEQUENCE'
  | 3

export type FinishReason__Output = typeof FinishReason[keyof typeof FinishReason]
