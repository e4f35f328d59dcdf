import { ConfigError } from '../../errors.js';
import { AttributeType, DataType } from './schema.js';

/** An attribute value of an ONNX node: a number is an INT, a number list INTS; floats and strings are marked. @example `{ alpha: { float: 0.2 }, perm: [1, 0, 2] }` */
export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | { strings: string[] };

interface AttrJson { name: string; type: number; i?: number; f?: number; s?: Uint8Array; ints?: number[]; floats?: number[]; strings?: Uint8Array[] }
interface NodeJson { input: string[]; output: string[]; name: string; opType: string; attribute: AttrJson[] }
interface TensorJson { name: string; dims: number[]; dataType: number; rawData: Uint8Array }

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Little-endian bytes of float32 values (ONNX `raw_data`, safetensors data). @example `float32Bytes(Float32Array.of(1)) // [0, 0, 128, 63]` */
export function float32Bytes(v: Float32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const dv = new DataView(out.buffer);
  if (LITTLE_ENDIAN) out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  else for (let i = 0; i < v.length; i++) dv.setFloat32(i * 4, v[i], true);
  return out;
}

function int64Bytes(v: readonly number[]): Uint8Array {
  const out = new Uint8Array(v.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) dv.setBigInt64(i * 8, BigInt(v[i]), true);
  return out;
}

function attr(name: string, v: AttrValue): AttrJson {
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('strings' in v) return { name, type: AttributeType.STRINGS, strings: v.strings.map((t) => new TextEncoder().encode(t)) };
  return { name, type: AttributeType.FLOATS, floats: v.floats };
}

/**
 * An ONNX graph under construction: initializers (weights) and nodes, with unique tensor names
 * derived from the layer being exported. The layer exporters of `layers.ts` write into it.
 *
 * @example
 * ```ts
 * const y = g.node('Gemm', [x, g.weight('weight', [3, 2], w), g.weight('bias', [3], b)], { transB: 1 });
 * ```
 */
export class OnnxGraph {
  readonly nodes: NodeJson[] = [];
  readonly initializers: TensorJson[] = [];
  private readonly used = new Set<string>();
  /** Prefix of the names made now (the current layer's name). */
  scope = '';

  /** A fresh tensor name `<scope>/<base>` (suffixed when taken). */
  name(base: string): string {
    const stem = this.scope ? `${this.scope}/${base}` : base;
    let n = stem;
    for (let k = 1; this.used.has(n); k++) n = `${stem}_${k}`;
    this.used.add(n);
    return n;
  }

  /** Adds a float32 initializer of the given shape and returns its name. */
  weight(base: string, shape: readonly number[], data: Float32Array): string {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new ConfigError(`onnx export: ${this.scope}/${base} has ${data.length} values for shape [${shape.join(', ')}]`);
    const name = this.name(base);
    this.initializers.push({ name, dims: [...shape], dataType: DataType.FLOAT, rawData: float32Bytes(data) });
    return name;
  }

  /** Adds an int64 initializer (axes, shapes) and returns its name. */
  int64(base: string, values: readonly number[]): string {
    const name = this.name(base);
    this.initializers.push({ name, dims: [values.length], dataType: DataType.INT64, rawData: int64Bytes(values) });
    return name;
  }

  /** Adds a node with `outputs` results (default 1) and returns their names. */
  nodeN(op: string, inputs: readonly string[], outputs: number, attrs: Record<string, AttrValue> = {}): string[] {
    const out = Array.from({ length: outputs }, (_, i) => this.name(`${op}${outputs > 1 ? `_${i}` : ''}`));
    this.nodes.push({
      input: [...inputs], output: out, name: this.name(`${op}_node`), opType: op,
      attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
    });
    return out;
  }

  /** Adds a node with one result and returns its name. */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.nodeN(op, inputs, 1, attrs)[0];
  }
}
