// Original file: proto/generate.proto


export interface HealthRequest {
}

export interface HealthRequest__Output {
}
