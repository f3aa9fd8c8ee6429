// @module A function tool the tools tests share: two required, bounded arguments, so constraints and parsers have something to check.
export const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['c', 'f'] } }, required: ['city', 'unit'] },
  },
};
