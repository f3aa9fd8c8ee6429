import { ConstraintCompiler, GrammarMatchers } from './packages/grammar/src/index.ts';
const c = new ConstraintCompiler();
const letters = 'etaoinshrdlucmfwypvbgkqjxz';
let seed = 1; const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
const pieces: string[] = [];
for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
const seen = new Set<string>();
while (pieces.length < 32000) { let w = ''; const n = 1 + Math.floor(rand() * 8); for (let i = 0; i < n; i++) w += letters[Math.floor(rand() * 26)]; w = rand() < 0.5 ? '▁' + w : w; if (!seen.has(w)) { seen.add(w); pieces.push(w); } }
pieces[0] = ''; pieces[1] = ''; pieces[2] = '';
const m = await GrammarMatchers.create({ pieces, kind: 'byte_fallback' }, pieces.length);
const schemas: Record<string, object> = {
  plain: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' }, pet: { enum: ['cat', 'dog'] }, tags: { type: 'array', items: { type: 'string' } }, active: { type: 'boolean' } }, required: ['name', 'age', 'pet', 'tags', 'active'] },
  maxLen8: { type: 'object', properties: { name: { type: 'string', maxLength: 8 } }, required: ['name'] },
  maxLen24: { type: 'object', properties: { name: { type: 'string', maxLength: 24 } }, required: ['name'] },
  bounded_int: { type: 'object', properties: { age: { type: 'integer', minimum: 0, maximum: 120 } }, required: ['age'] },
};
for (const [k, s] of Object.entries(schemas)) { const w = await c.wire({ type: 'json_schema', schema: s }); const t = performance.now(); (await m.matcher(w, [2])).dispose(); console.log(k, (performance.now() - t).toFixed(0), 'ms'); }
