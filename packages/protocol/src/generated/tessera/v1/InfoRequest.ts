// Original file: proto/generate.proto


export interface InfoRequest {
}

export interface InfoRequest__Output {
}
