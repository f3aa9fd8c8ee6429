// Original file: proto/generate.proto


export interface HealthResponse {
  /**
   * As in InfoResponse: changes when the shard process restarts.
   */
  'instanceId'?: (string);
  /**
   * Whether Warmup has allocated the KV cache in this process (Prefill/Decode fail until it has).
   */
  'warmedUp'?: (boolean);
}

export interface HealthResponse__Output {
  /**
   * As in InfoResponse: changes when the shard process restarts.
   */
  'instanceId': (string);
  /**
   * Whether Warmup has allocated the KV cache in this process (Prefill/Decode fail until it has).
   */
  'warmedUp': (boolean);
}
