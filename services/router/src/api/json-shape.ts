// @module Shape checks on parsed JSON bodies, shared by the API translators.

/** A JSON object (not null, not an array): the only shape a request body or nested parameter object may have. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
