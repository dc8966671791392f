/**
 * ONNX export of a Llama-family model (llama, mistral, qwen2) in the layout transformers.js loads:
 *   onnx/model.onnx            fp32 weights, fp32 compute
 *   onnx/model_fp16.onnx       fp16 weights (Cast to fp32 inside the graph), fp32 compute and I/O, so
 *                              it runs on every backend, with or without shader-f16
 *   onnx/<name>.onnx_data[_k]  external data, when the weights pass `externalDataThreshold` (2 GB
 *                              by default: protobuf messages cannot be larger), in chunks of at most
 *                              `maxChunkBytes` as transformers.js expects
 *   config.json                the source's plus `transformers.js_config` (dtype, external data)
 *   generation_config.json     the source's, or one made from config.json's bos/eos ids
 *   tokenizer files, pruning.json
 *
 * Graph (opset 18, standard operators only), names as Optimum's Llama export:
 *   inputs   input_ids int64 (B, S), attention_mask int64 (B, P+S), position_ids int64 (B, S),
 *            past_key_values.{i}.key / .value float32 (B, Hkv, P, D)  [Hkv and D are numbers, so
 *            transformers.js can build the empty cache from the input metadata]
 *   outputs  logits float32 (B, S, V), present.{i}.key / .value float32 (B, Hkv, P+S, D)
 * The decoder is the one src/model/llama.ts runs: RMSNorm (eps from config), RoPE rotate_half with
 * cos/sin tables for every position up to max_position_embeddings (theta and linear/llama3 scaling
 * applied on the CPU, gathered by position_ids), causal GQA attention with the padding mask,
 * SwiGLU MLP, biases where the config has them, tied or separate head. Linear weights are stored
 * transposed ([in, out], as Optimum does) so MatMul needs no Transpose; pruned zeros stay zeros.
 * Sliding-window attention is not applied (PolyPrune's forward does not apply it either).
 *
 * The protobuf is written with the ONNX definitions of `onnx-proto` (protobufjs). Weights are
 * streamed one tensor at a time: the graph without weights is encoded once, then each weight
 * initializer is encoded and written (field framing with protobufjs' Writer), so peak memory is about
 * one tensor whatever the model size.
 */
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal.js';
import { PolyPruneError } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import { VERSION } from '../common/version';
import { ropeInvFreq, type ModelConfig } from '../io/config';
import { bytesToF32, dtypeSize, numel } from '../io/dtypes';
import { ropeTables } from '../gpu/ops';
import type { Checkpoint } from '../io/safetensors';
import type { ModelFolder } from '../io/source';
import { checkpointRange, COPIED_FILES, EXPORT_SLICE_BYTES, f32ToF16Bits, portableRecord, readAll, withSink, writeProvenanceFiles, type CalibrationWindows, type ExportResult, type ExportWriter, type PruningRecord } from './hf';
import type { ExportSink } from './sink';
import { checkQuantizedExport, matMulNBitsShapes, onnxQuantVariant, packMatMulNBits, quantizedLinear, type QuantizedTensors, type QuantSettings } from './gptq';

const { onnx } = onnxProto;
type DataType = onnxProto.onnx.TensorProto.DataType;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export const ONNX_OPSET = 18;
export const ONNX_IR_VERSION = 8;

/**
 * fp32 and fp16: float weights (a quantized model's dequantized ones); q4, q8, q2: a GPTQ model's
 * integer codes in MatMulNBits (transformers.js dtypes 'q4', 'q8', 'q2': onnx/model_q4.onnx,
 * model_quantized.onnx, model_q2.onnx), everything else fp32.
 */
export type OnnxVariant = 'fp32' | 'fp16' | 'q4' | 'q8' | 'q2';
export const ONNX_VARIANTS: readonly OnnxVariant[] = ['fp32', 'fp16', 'q4', 'q8', 'q2'];

/** The file name transformers.js loads for `variant` (dtype suffix mapping of transformers.js). */
export function onnxVariantFile(variant: OnnxVariant): string {
  if (variant === 'fp32') return 'model.onnx';
  if (variant === 'fp16') return 'model_fp16.onnx';
  return onnxQuantVariant(Number(variant.slice(1)))!.file;
}

/**
 * The default graphs: q<bits> for a quantized model whose codes are held, else fp32 and fp16. A
 * quantized model of bits MatMulNBits has no transformers.js name for (3) is refused here, so
 * that its codes are never silently written as floats (ask for fp32/fp16 to get those).
 */
export function defaultOnnxVariants(quant: QuantSettings | null | undefined): OnnxVariant[] {
  if (!quant) return ['fp32', 'fp16'];
  const v = onnxQuantVariant(quant.bits);
  if (!v) checkQuantizedExport('onnx', quant, []);
  return [v!.dtype];
}

export interface OnnxExportOptions {
  source: ModelFolder;
  cfg: ModelConfig;
  /** The weights to write (a pruned model's overlay checkpoint, or the source's). */
  checkpoint: Checkpoint;
  record?: PruningRecord | null;
  /** The calibration windows of this pruning (calibration.safetensors beside recipe.yaml). */
  calibration?: CalibrationWindows | null;
  sink: ExportSink;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Which graphs to write (default: q<bits> for a quantized model, else fp32 and fp16). */
  variants?: readonly OnnxVariant[];
  /** A GPTQ model's codes and parameters (needed by the q variants). */
  quantized?: QuantizedTensors | null;
  /** Weights above this many bytes go to external data files (default 2e9). */
  externalDataThreshold?: number;
  /** Largest external data file (default 2e9). */
  maxChunkBytes?: number;
  /** The most bytes of one weight converted and written at a time (default EXPORT_SLICE_BYTES; tests use less). */
  sliceBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// graph building

/** A weight initializer: the HF tensor it comes from and how (transposed to [in, out] or not). */
interface WeightRef {
  onnxName: string;
  tensor: string;
  dims: number[];
  transpose: boolean;
  dataType: DataType;
  /** float: the tensor's values; qB / qScales / qZeros: MatMulNBits' inputs packed from its GPTQ codes. */
  kind: 'float' | 'qB' | 'qScales' | 'qZeros';
}

type Attr = number | number[] | { float: number };

class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly consts: onnxProto.onnx.ITensorProto[] = [];
  readonly weights: WeightRef[] = [];
  private readonly constNames = new Map<string, string>();
  private k = 0;

  constructor(
    private readonly fp16: boolean,
    readonly quant: QuantSettings | null = null,
  ) {}

  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, nOut = 1, outNames?: string[], domain?: string): string[] {
    const id = this.k++;
    const outputs = outNames ?? Array.from({ length: nOut }, (_, j) => `/${op}_${id}/out${j}`);
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v) ? { name, type: AT.INTS, ints: v } : typeof v === 'number' ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v.float },
    );
    this.nodes.push({ name: `/${op}_${id}`, opType: op, input: inputs, output: outputs, attribute, ...(domain ? { domain } : {}) });
    return outputs;
  }
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outName?: string): string {
    return this.node(op, inputs, attrs, 1, outName ? [outName] : undefined)[0];
  }

  i64(values: number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : ''}${values.join(',')}`;
    let name = this.constNames.get(key);
    if (!name) {
      name = `const_i64_${this.constNames.size}`;
      const raw = new BigInt64Array(values.map((v) => BigInt(v)));
      this.consts.push({ name, dims: scalar ? [] : [values.length], dataType: DT.INT64, rawData: new Uint8Array(raw.buffer) });
      this.constNames.set(key, name);
    }
    return name;
  }
  f32(values: Float32Array | number[], dims: number[], label?: string): string {
    const arr = values instanceof Float32Array ? values : Float32Array.from(values);
    const key = label ?? `f32:${dims.join('x')}:${Array.from(arr).join(',')}`;
    let name = this.constNames.get(key);
    if (!name) {
      name = label ?? `const_f32_${this.constNames.size}`;
      this.consts.push({ name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice() });
      this.constNames.set(key, name);
    }
    return name;
  }

  /** A weight from the checkpoint; fp16 variant: matrices stored as FLOAT16 and Cast to fp32. */
  weight(tensor: string, shape: readonly number[], transpose: boolean): string {
    const dims = transpose ? [shape[1], shape[0]] : [...shape];
    const name = transpose ? `${tensor}.T` : tensor;
    const half = this.fp16 && dims.length === 2;
    this.weights.push({ onnxName: half ? `${name}_fp16` : name, tensor, dims, transpose, dataType: half ? DT.FLOAT16 : DT.FLOAT, kind: 'float' });
    return half ? this.op('Cast', [`${name}_fp16`], { to: DT.FLOAT }, name) : name;
  }

  /** x (..., K) @ W^T for a GPTQ-quantized W (N, K): com.microsoft MatMulNBits on its codes. */
  matMulNBits(x: string, tensor: string, shape: readonly number[]): string {
    const q = this.quant!;
    const [N, K] = shape;
    const { blockSize, nBlocks, blob, zpPerRow } = matMulNBitsShapes(N, K, q);
    const p = tensor.slice(0, -'.weight'.length);
    const ref = (suffix: string, dims: number[], dataType: DataType, kind: WeightRef['kind']): string => {
      this.weights.push({ onnxName: `${p}.${suffix}`, tensor, dims, transpose: false, dataType, kind });
      return `${p}.${suffix}`;
    };
    const B = ref('qweight', [N, nBlocks, blob], DT.UINT8, 'qB');
    const S = ref('scales', [N, nBlocks], DT.FLOAT, 'qScales');
    const Z = ref('qzeros', [N * zpPerRow], DT.UINT8, 'qZeros');
    return this.node('MatMulNBits', [x, B, S, Z], { K, N, bits: q.bits, block_size: blockSize, accuracy_level: 0 }, 1, undefined, 'com.microsoft')[0];
  }
}

function dim(d: number | string): onnxProto.onnx.TensorShapeProto.IDimension {
  return typeof d === 'number' ? { dimValue: d } : { dimParam: d };
}

function valueInfo(name: string, elemType: DataType, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map(dim) } } } };
}

/** Build the decoder graph (without weight data) for `cfg`; weight shapes come from `shape`. */
function buildGraph(cfg: ModelConfig, shape: (tensor: string) => readonly number[], fp16: boolean, quant: QuantSettings | null): { g: GraphBuilder; inputs: onnxProto.onnx.IValueInfoProto[]; outputs: onnxProto.onnx.IValueInfoProto[] } {
  const g = new GraphBuilder(fp16, quant);
  const { numLayers: L, numHeads: H, numKvHeads: Hkv, headDim: D, vocabSize: V, rmsNormEps: eps } = cfg;
  const rep = H / Hkv;
  const linear = (x: string, p: string, bias: boolean): string => {
    const w = `${p}.weight`;
    let y = quant && quantizedLinear(w) ? g.matMulNBits(x, w, shape(w)) : g.op('MatMul', [x, g.weight(w, shape(w), true)]);
    if (bias) y = g.op('Add', [y, g.weight(`${p}.bias`, shape(`${p}.bias`), false)]);
    return y;
  };
  const epsName = g.f32([eps], [], 'rms_norm_eps');
  const rms = (x: string, w: string): string => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x]), g.i64([-1])], { keepdims: 1 });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [ms, epsName])])]);
    return g.op('Mul', [g.op('Mul', [x, inv]), g.weight(w, shape(w), false)]);
  };

  const inputs = [
    valueInfo('input_ids', DT.INT64, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', DT.INT64, ['batch_size', 'total_sequence_length']),
    valueInfo('position_ids', DT.INT64, ['batch_size', 'sequence_length']),
  ];
  const outputs = [valueInfo('logits', DT.FLOAT, ['batch_size', 'sequence_length', V])];
  for (let i = 0; i < L; i++) {
    for (const kv of ['key', 'value']) {
      inputs.push(valueInfo(`past_key_values.${i}.${kv}`, DT.FLOAT, ['batch_size', Hkv, 'past_sequence_length', D]));
      outputs.push(valueInfo(`present.${i}.${kv}`, DT.FLOAT, ['batch_size', Hkv, 'total_sequence_length', D]));
    }
  }

  // Additive attention bias (B, 1, 1, S, T): 0 where key j <= query position and not padding.
  const S = g.op('Gather', [g.op('Shape', ['input_ids']), g.i64([1], true)], { axis: 0 });
  const T = g.op('Gather', [g.op('Shape', ['attention_mask']), g.i64([1], true)], { axis: 0 });
  const P = g.op('Sub', [T, S]);
  const one = g.i64([1], true);
  const qpos = g.op('Range', [P, T, one]); // (S)
  const kpos = g.op('Range', [g.i64([0], true), T, one]); // (T)
  const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [kpos, g.i64([0])]), g.op('Unsqueeze', [qpos, g.i64([1])])]); // (S, T)
  const pad = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: DT.BOOL }), g.i64([1, 2])]); // (B, 1, 1, T)
  const allowed = g.op('And', [causal, pad]); // (B, 1, S, T)
  const negMax = g.f32([-3.4028234663852886e38], [], 'mask_min');
  const bias = g.op('Unsqueeze', [g.op('Where', [allowed, g.f32([0], [], 'mask_zero'), negMax]), g.i64([2])]); // (B, 1, 1, S, T)

  // RoPE tables (B, 1, S, D), rotate_half convention. cos/sin are computed on the CPU for every
  // position (as PolyPrune's forward does) and gathered by position_ids: GPU sin/cos are not
  // accurate enough on every adapter (SwiftShader's are off by ~1e-4 for angles of tens of radians).
  const tables = ropeTables(ropeInvFreq(cfg), cfg.maxPositionEmbeddings);
  const cosT = g.f32(tables.cos, [cfg.maxPositionEmbeddings, D / 2], 'rope_cos');
  const sinT = g.f32(tables.sin, [cfg.maxPositionEmbeddings, D / 2], 'rope_sin');
  const half = (t: string): string => {
    const x = g.op('Gather', [t, 'position_ids'], { axis: 0 }); // (B, S, D/2)
    return g.op('Unsqueeze', [g.op('Concat', [x, x], { axis: -1 }), g.i64([1])]); // (B, 1, S, D)
  };
  const cos = half(cosT);
  const sin = half(sinT);
  const rope = (x: string): string => {
    const x1 = g.op('Slice', [x, g.i64([0]), g.i64([D / 2]), g.i64([-1])]);
    const x2 = g.op('Slice', [x, g.i64([D / 2]), g.i64([D]), g.i64([-1])]);
    const rot = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rot, sin])]);
  };
  const scale = g.f32([1 / Math.sqrt(D)], [], 'attn_scale');

  let x = g.op('Gather', [g.weight('model.embed_tokens.weight', shape('model.embed_tokens.weight'), false), 'input_ids'], { axis: 0 }); // (B, S, C)
  for (let i = 0; i < L; i++) {
    const p = `model.layers.${i}`;
    const h = rms(x, `${p}.input_layernorm.weight`);
    const heads = (y: string, n: number): string => g.op('Transpose', [g.op('Reshape', [y, g.i64([0, 0, n, D])])], { perm: [0, 2, 1, 3] }); // (B, n, S, D)
    const q = rope(heads(linear(h, `${p}.self_attn.q_proj`, cfg.attentionBias), H));
    const k = rope(heads(linear(h, `${p}.self_attn.k_proj`, cfg.attentionBias), Hkv));
    const v = heads(linear(h, `${p}.self_attn.v_proj`, cfg.attentionBias), Hkv);
    const kAll = g.op('Concat', [`past_key_values.${i}.key`, k], { axis: 2 }, `present.${i}.key`); // (B, Hkv, T, D)
    const vAll = g.op('Concat', [`past_key_values.${i}.value`, v], { axis: 2 }, `present.${i}.value`);
    // GQA without copies: queries (B, Hkv, rep, S, D) against keys (B, Hkv, 1, T, D), broadcast by MatMul.
    const q5 = g.op('Reshape', [q, g.i64([0, Hkv, rep, -1, D])]);
    const kT = g.op('Transpose', [g.op('Unsqueeze', [kAll, g.i64([2])])], { perm: [0, 1, 2, 4, 3] }); // (B, Hkv, 1, D, T)
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q5, kT]), scale]), bias]); // (B, Hkv, rep, S, T)
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const o5 = g.op('MatMul', [probs, g.op('Unsqueeze', [vAll, g.i64([2])])]); // (B, Hkv, rep, S, D)
    const o = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [o5, g.i64([0, H, -1, D])])], { perm: [0, 2, 1, 3] }), g.i64([0, 0, H * D])]); // (B, S, H*D)
    x = g.op('Add', [x, linear(o, `${p}.self_attn.o_proj`, cfg.attentionOutBias)]);
    const h2 = rms(x, `${p}.post_attention_layernorm.weight`);
    const gate = linear(h2, `${p}.mlp.gate_proj`, cfg.mlpBias);
    const up = linear(h2, `${p}.mlp.up_proj`, cfg.mlpBias);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    x = g.op('Add', [x, linear(act, `${p}.mlp.down_proj`, cfg.mlpBias)]);
  }
  const hN = rms(x, 'model.norm.weight');
  let headT: string;
  if (cfg.tieWordEmbeddings) {
    // The embedding matrix once in the file; the head is its transpose (folded by the runtime).
    headT = g.op('Transpose', ['model.embed_tokens.weight'], { perm: [1, 0] });
  } else {
    headT = g.weight('lm_head.weight', shape('lm_head.weight'), true);
  }
  g.op('MatMul', [hN, headT], {}, 'logits');
  return { g, inputs, outputs };
}

// ---------------------------------------------------------------------------------------------
// weights

/**
 * A weight's bytes as the ONNX file stores them, in slices: f32 or f16 values (transposed to
 * [in, out] where the graph asks), or MatMulNBits' packed GPTQ codes (each quantized matrix packed
 * once for its three initializers). A weight that is not transposed is read, converted and written
 * one slice at a time (at most `sliceBytes` of f32), so an embedding of 1-2 GiB is never whole in
 * memory; a transposed one is built whole in f32 from slices of the checkpoint (the transpose needs
 * every row) and written in slices.
 */
class WeightReader {
  private packed: { tensor: string; p: ReturnType<typeof packMatMulNBits> } | null = null;
  constructor(
    private readonly ckpt: Checkpoint,
    private readonly quantized: QuantizedTensors | null | undefined,
    private readonly quant: QuantSettings | null,
    private readonly sliceBytes: number = EXPORT_SLICE_BYTES,
  ) {}

  async *chunks(w: WeightRef): AsyncGenerator<Uint8Array> {
    if (w.kind !== 'float') {
      if (this.packed?.tensor !== w.tensor) {
        const r = this.quantized?.get(w.tensor);
        if (!r) throw new PolyPruneError('INTERNAL', `No GPTQ codes for '${w.tensor}'`);
        const [N, K] = this.ckpt.info(w.tensor).shape;
        this.packed = { tensor: w.tensor, p: packMatMulNBits(r, N, K, this.quant!) };
      }
      const p = this.packed.p;
      const a = w.kind === 'qB' ? p.B : w.kind === 'qScales' ? p.scales : p.zeroPoints;
      yield new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      return;
    }
    const info = this.ckpt.info(w.tensor);
    const n = numel(info.shape);
    const read = this.elements(w.tensor);
    const maxElems = Math.max(1, Math.floor(this.sliceBytes / 4));
    const encode = (v: Float32Array): Uint8Array => {
      if (w.dataType !== DT.FLOAT16) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const h = new Uint16Array(v.length);
      for (let j = 0; j < v.length; j++) h[j] = f32ToF16Bits(v[j]);
      return new Uint8Array(h.buffer);
    };
    if (!w.transpose) {
      for (let e0 = 0; e0 < n; e0 += maxElems) yield encode(await read(e0, Math.min(maxElems, n - e0)));
      return;
    }
    const [rows, cols] = info.shape; // (out, in) -> (in, out)
    const out = new Float32Array(n);
    const rowsPerRead = Math.max(1, Math.floor(maxElems / cols));
    for (let r0 = 0; r0 < rows; r0 += rowsPerRead) {
      const nr = Math.min(rowsPerRead, rows - r0);
      const src = await read(r0 * cols, nr * cols);
      for (let r = 0; r < nr; r++) for (let c = 0; c < cols; c++) out[c * rows + r0 + r] = src[r * cols + c];
    }
    for (let e0 = 0; e0 < n; e0 += maxElems) yield encode(out.subarray(e0, Math.min(n, e0 + maxElems)));
  }

  /** Elements [start, start + count) of a tensor as f32, read alone (by range where the checkpoint has ranges); refuses non-finite values. */
  private elements(tensor: string): (start: number, count: number) => Promise<Float32Array> {
    const { dtype } = this.ckpt.info(tensor);
    const size = dtypeSize(dtype);
    const raw = checkpointRange(this.ckpt, tensor);
    return async (start, count) => {
      const v = bytesToF32(await raw(start * size, count * size), dtype, tensor);
      for (let j = 0; j < v.length; j++) {
        if (!Number.isFinite(v[j])) throw new PolyPruneError('CHECKPOINT_MISMATCH', `Tensor '${tensor}' has a non-finite value at element ${start + j}; refusing to export it.`);
      }
      return v;
    };
  }
}

function weightByteLength(w: WeightRef): number {
  return numel(w.dims) * (w.dataType === DT.FLOAT16 ? 2 : w.dataType === DT.UINT8 ? 1 : 4);
}

function varintSize(n: number): number {
  let s = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

/** Field `field` as a length-delimited protobuf frame header (tag + length), written by protobufjs. */
function frame(field: number, length: number): Uint8Array {
  return protobuf.Writer.create().uint32((field << 3) | 2).uint32(length).finish();
}

const GRAPH_FIELD = 7; // ModelProto.graph
const INITIALIZER_FIELD = 5; // GraphProto.initializer
const RAW_DATA_FIELD = 9; // TensorProto.raw_data

interface ExternalPlan {
  files: { name: string; bytes: number }[];
  at: Map<string, { file: string; offset: number }>;
}

function planExternal(weights: readonly WeightRef[], base: string, maxChunk: number): ExternalPlan {
  const files: { name: string; bytes: number }[] = [];
  const at = new Map<string, { file: string; offset: number }>();
  for (const w of weights) {
    const n = weightByteLength(w);
    let cur = files[files.length - 1];
    if (!cur || (cur.bytes > 0 && cur.bytes + n > maxChunk)) {
      cur = { name: `${base}_data${files.length ? `_${files.length}` : ''}`, bytes: 0 };
      files.push(cur);
    }
    const offset = Math.ceil(cur.bytes / 64) * 64; // aligned for memory mapping
    at.set(w.onnxName, { file: cur.name, offset });
    cur.bytes = offset + n;
  }
  return { files, at };
}

/** Options that decide an ONNX file's bytes besides the weights' values. */
export interface OnnxPlanOptions {
  cfg: ModelConfig;
  /** Each tensor's shape (the checkpoint's). */
  shape: (tensor: string) => readonly number[];
  variant: OnnxVariant;
  /** The quantization settings (q variants). */
  quant?: QuantSettings | null;
  record?: PruningRecord | null;
  externalDataThreshold?: number;
  maxChunkBytes?: number;
}

interface OnnxPlan {
  g: GraphBuilder;
  plan: ExternalPlan | null;
  embedded: { x: WeightRef; head: Uint8Array[]; len: number }[];
  head: Uint8Array[];
  /** Bytes of the .onnx file. */
  total: number;
}

/**
 * An ONNX file's layout, from shapes only: the graph, its encoded head and the framing of every
 * weight, so the file's exact size is known before a weight is read (`onnxFileBytes`, exportedBytes).
 */
function planOnnxModel(o: OnnxPlanOptions, fileBase: string): OnnxPlan {
  const { cfg, variant } = o;
  const quant = variant.startsWith('q') ? (o.quant ?? null) : null;
  if (variant.startsWith('q') && !quant) throw new PolyPruneError('INTERNAL', `ONNX ${variant} needs quantization settings`);
  const { g, inputs, outputs } = buildGraph(cfg, o.shape, variant === 'fp16', quant);
  const weightBytesTotal = g.weights.reduce((a, x) => a + weightByteLength(x), 0);
  const external = weightBytesTotal > (o.externalDataThreshold ?? 2e9);
  const dir = fileBase.slice(0, fileBase.lastIndexOf('/') + 1);
  const plan = external ? planExternal(g.weights, fileBase.slice(dir.length), o.maxChunkBytes ?? 2e9) : null;
  const meta = (x: WeightRef): onnxProto.onnx.ITensorProto => {
    const t: onnxProto.onnx.ITensorProto = { name: x.onnxName, dims: x.dims, dataType: x.dataType };
    if (plan) {
      const a = plan.at.get(x.onnxName)!;
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [
        { key: 'location', value: a.file },
        { key: 'offset', value: String(a.offset) },
        { key: 'length', value: String(weightByteLength(x)) },
      ];
    }
    return t;
  };
  const metadataProps = [{ key: 'producer', value: `polyprune ${VERSION}` }];
  if (o.record) {
    const r = o.record;
    metadataProps.push({ key: 'polyprune.pruning', value: JSON.stringify({ method: r.method, structure: r.structure, sparsity_ratio: r.sparsity_ratio, overall_sparsity: r.overall_sparsity, base_model: portableRecord(r).model.source }) });
  }
  const graphHead = onnx.GraphProto.encode({
    name: 'main_graph',
    node: g.nodes,
    initializer: [...g.consts, ...(plan ? g.weights.map(meta) : [])],
    input: inputs,
    output: outputs,
  }).finish();
  // Embedded weights: each initializer is meta fields + raw_data (field 9), the order protobufjs encodes in.
  const embedded = plan
    ? []
    : g.weights.map((x) => {
        const m = onnx.TensorProto.encode(meta(x)).finish();
        const n = weightByteLength(x);
        const rawHead = frame(RAW_DATA_FIELD, n);
        const len = m.byteLength + rawHead.byteLength + n;
        return { x, head: [frame(INITIALIZER_FIELD, len), m, rawHead], len: varintSize(len) + 1 + len };
      });
  const graphLen = graphHead.byteLength + embedded.reduce((a, e) => a + e.len, 0);
  const describe = variant === 'fp16' ? 'fp16 weights, fp32 compute' : quant ? `${quant.bits}-bit GPTQ weights in MatMulNBits, fp32 compute` : 'fp32';
  const modelHead = onnx.ModelProto.encode({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }, ...(quant ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    producerName: 'polyprune',
    producerVersion: VERSION,
    docString: `${cfg.modelType} decoder exported by PolyPrune (${describe})`,
    metadataProps,
  }).finish();
  const graphFrame = frame(GRAPH_FIELD, graphLen);
  const total = modelHead.byteLength + graphFrame.byteLength + graphLen;
  if (!plan && total >= 2 ** 31) throw new PolyPruneError('INTERNAL', `${fileBase} would be ${total} bytes, over protobuf's 2 GiB; lower externalDataThreshold.`);
  return { g, plan, embedded, head: [modelHead, graphFrame, graphHead], total };
}

/** The exact bytes of each file one ONNX graph writes (`onnx/<file>` and its external data files), from shapes only. */
export function onnxFileBytes(o: OnnxPlanOptions): Record<string, number> {
  const base = `onnx/${onnxVariantFile(o.variant)}`;
  const p = planOnnxModel(o, base);
  const out: Record<string, number> = { [base]: p.total };
  for (const f of p.plan?.files ?? []) out[`onnx/${f.name}`] = f.bytes;
  return out;
}

/** Write one ONNX model file (and its external data files). Returns the number of data chunks. */
async function writeOnnxModel(
  w: ExportWriter,
  opts: OnnxExportOptions,
  fileBase: string,
  variant: OnnxVariant,
  progress: (message: string, done: number, total: number) => void,
): Promise<number> {
  const { cfg, checkpoint: ckpt } = opts;
  const quant = opts.quantized?.settings ?? null;
  const { g, plan, embedded, head, total } = planOnnxModel(
    { cfg, shape: (n) => ckpt.info(n).shape, variant, quant, record: opts.record, externalDataThreshold: opts.externalDataThreshold, maxChunkBytes: opts.maxChunkBytes },
    fileBase,
  );
  const reader = new WeightReader(ckpt, opts.quantized, quant, opts.sliceBytes);
  const writeWeight = async (x: WeightRef): Promise<void> => {
    let n = 0;
    for await (const part of reader.chunks(x)) {
      await w.write(part);
      n += part.byteLength;
    }
    if (n !== weightByteLength(x)) throw new PolyPruneError('INTERNAL', `ONNX weight '${x.onnxName}': wrote ${n} bytes, expected ${weightByteLength(x)}`);
  };
  const dir = fileBase.slice(0, fileBase.lastIndexOf('/') + 1);
  let done = 0;
  const tick = (what: string) => progress(`writing ${fileBase}: ${what}`, ++done, g.weights.length);
  await w.begin(fileBase, total);
  for (const b of head) await w.write(b);
  for (const e of embedded) {
    for (const b of e.head) await w.write(b);
    await writeWeight(e.x);
    tick(e.x.tensor);
  }
  await w.end();
  if (plan) {
    for (const f of plan.files) {
      await w.begin(`${dir}${f.name}`, f.bytes);
      let pos = 0;
      for (const x of g.weights) {
        const a = plan.at.get(x.onnxName)!;
        if (a.file !== f.name) continue;
        if (a.offset > pos) await w.write(new Uint8Array(a.offset - pos));
        await writeWeight(x);
        pos = a.offset + weightByteLength(x);
        tick(x.tensor);
      }
      await w.end();
    }
  }
  return plan ? plan.files.length : 0;
}

/**
 * The q variants need a GPTQ model whose codes this session holds, of the variant's bits and a layout
 * MatMulNBits stores; one-line BAD_ARGUMENT otherwise (before anything is written).
 */
export function checkOnnxVariants(variants: readonly OnnxVariant[], quantized: QuantizedTensors | null | undefined, quantBits: number | null, cfg: ModelConfig, shape: (tensor: string) => readonly number[]): void {
  for (const v of variants) {
    if (!ONNX_VARIANTS.includes(v)) throw new PolyPruneError('BAD_ARGUMENT', `Unknown ONNX variant '${String(v)}'. Supported: ${ONNX_VARIANTS.join(', ')}.`);
    if (!v.startsWith('q')) continue;
    const bits = Number(v.slice(1));
    if (!quantized) {
      throw new PolyPruneError(
        'BAD_ARGUMENT',
        quantBits
          ? `ONNX ${v} stores GPTQ's integer codes, and this model holds only its dequantized weights (it was loaded from a folder); quantize it again in this session (polyprune quantize ... --format onnx), or export fp32/fp16.`
          : `ONNX ${v} stores ${bits}-bit GPTQ codes; quantize the model first (polyprune quantize --method gptq --bits ${bits} ... --format onnx), or export fp32/fp16.`,
      );
    }
    if (quantized.settings.bits !== bits) throw new PolyPruneError('BAD_ARGUMENT', `ONNX ${v} needs a ${bits}-bit model; this one is quantized to ${quantized.settings.bits} bits${onnxQuantVariant(quantized.settings.bits) ? ` (use variant q${quantized.settings.bits === 8 ? 8 : quantized.settings.bits})` : ''}.`);
    const shapes = [...Array(cfg.numLayers).keys()].flatMap((i) => quantLinearShapes(i, shape));
    checkQuantizedExport('onnx', quantized.settings, shapes);
  }
}

function quantLinearShapes(layer: number, shape: (tensor: string) => readonly number[]): [string, number, number][] {
  return ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'].map((n) => {
    const t = `model.layers.${layer}.${n}.weight`;
    const [N, K] = shape(t);
    return [t, N, K];
  });
}

/**
 * Write the ONNX export (see the file comment) through `sink` and commit it; on error or cancel
 * the sink is aborted and nothing is left.
 */
export async function exportOnnx(opts: OnnxExportOptions): Promise<ExportResult> {
  const { source, cfg, sink, signal, onProgress } = opts;
  let variants: readonly OnnxVariant[];
  try {
    variants = opts.variants ?? defaultOnnxVariants(opts.quantized?.settings);
    if (!['llama', 'mistral', 'qwen2'].includes(cfg.modelType)) {
      throw new PolyPruneError('UNSUPPORTED_MODEL', `ONNX export supports llama, mistral and qwen2, not '${cfg.modelType}'.`);
    }
    checkOnnxVariants(variants, opts.quantized, opts.record?.quantization?.bits ?? null, cfg, (n) => opts.checkpoint.info(n).shape);
  } catch (e) {
    await sink.abort().catch(() => undefined);
    throw e;
  }
  return withSink(sink, signal, async (w) => {
    for (const name of COPIED_FILES) {
      if (name === 'generation_config.json') continue;
      if (await source.exists(name)) await w.whole(name, [await readAll(source, name)]);
    }
    const genConfig = (await source.exists('generation_config.json'))
      ? await readAll(source, 'generation_config.json')
      : new TextEncoder().encode(
          JSON.stringify({ ...(cfg.bosTokenId !== null ? { bos_token_id: cfg.bosTokenId } : {}), ...(cfg.eosTokenIds.length ? { eos_token_id: cfg.eosTokenIds.length === 1 ? cfg.eosTokenIds[0] : cfg.eosTokenIds } : {}) }, null, 2) + '\n',
        );
    await w.whole('generation_config.json', [genConfig]);
    await writeProvenanceFiles(w, source, opts.record, opts.calibration);
    const progress = (message: string, done: number, total: number) => onProgress?.({ kind: 'export', message, done, total });
    const chunks: Record<string, number> = {};
    for (const v of variants) {
      const file = onnxVariantFile(v);
      const n = await writeOnnxModel(w, opts, `onnx/${file}`, v, progress);
      if (n) chunks[file] = n;
    }
    const config = JSON.parse(await source.readText('config.json')) as Record<string, unknown>;
    const prev = (config['transformers.js_config'] ?? {}) as Record<string, unknown>;
    const tjs: Record<string, unknown> = { ...prev, dtype: variants.includes('fp32') ? 'fp32' : variants[0] };
    if (Object.keys(chunks).length) tjs.use_external_data_format = chunks;
    else delete tjs.use_external_data_format;
    config['transformers.js_config'] = tjs;
    await w.json('config.json', config);
  });
}
