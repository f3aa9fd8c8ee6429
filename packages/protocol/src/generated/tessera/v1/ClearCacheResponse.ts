// Original file: proto/generate.proto


export interface ClearCacheResponse {
}

export interface ClearCacheResponse__Output {
}
