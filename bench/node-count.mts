import fs from 'node:fs';
import onnx from 'onnx-proto';
const m = onnx.onnx.ModelProto.decode(fs.readFileSync(process.argv[2]!));
const nodes = m.graph!.node!;
const ops = new Map<string, number>();
for (const n of nodes) ops.set(n.opType!, (ops.get(n.opType!) ?? 0) + 1);
console.log('nodes', nodes.length, [...ops].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join(' '));
