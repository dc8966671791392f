/**
 * The integer side of a GPTQ model, for the exports that store it (docs/export.md, "Quantized exports"):
 *   - `hf-gptq`: a Hugging Face folder in the GPTQ v1 checkpoint format (transformers, GPTQModel, vLLM):
 *     per quantized Linear `qweight` I32 (K/pf, N), `qzeros` I32 (G, N/pf), `scales` F16 (G, N),
 *     `g_idx` I32 (K), with the values of a column (qweight) or row (qzeros) as one little-endian bit
 *     stream of `bits`-bit fields, low bits first: 32 / bits per int32 for 2, 4 and 8 bits, and for 3
 *     bits 32 values in three words with values 10 and 21 straddling two words (IST-DASLab/gptq quant.py
 *     `Quant3Linear.pack`, GPTQModel `pack_original` for bits 3), G = ceil(K / group); the zeros stored
 *     minus one as GPTQModel writes v1 (gptqmodel/utils/model.py `convert_gptq_v2_to_v1_format_module`:
 *     the packed word minus 0x11111111 for 4 bits, 0x55555555 for 2, 0x01010101 for 8; for 3 bits each
 *     field minus one modulo 8, its `_revert_gptq_v1_qzeros_correction`); config.json gets
 *     `quantization_config`.
 *   - ONNX `MatMulNBits` (com.microsoft): B uint8 (N, n_blocks, blob) with blob = block_size * bits / 8,
 *     codes low bits first along K, scales f32 (N, n_blocks), zero_points uint8 packed per row
 *     (N * ceil(n_blocks * bits / 8)), block_size = the group size.
 * What each format cannot hold is refused before anything is written (`checkQuantizedExport`).
 */
import { PolyPruneError } from '../common/errors';
import { f32ToF16Bits, type SafetensorsDtype } from '../io/dtypes';
import type { TensorMeta } from '../io/safetensors';
import { LINEAR_NAMES, type LinearName } from '../model/names';
import type { GptqResult } from '../prune/gptq';

/** The quantization settings an export needs (pruning.json's `quantization`, resolved). */
export interface QuantSettings {
  bits: number;
  /** Columns per group; -1 = per channel. */
  groupSize: number;
  actOrder: boolean;
  staticGroups: boolean;
}

/** The export formats that store integer codes. */
export type QuantizedFormat = 'hf-gptq' | 'onnx';

/** Each quantized Linear's codes and parameters, by tensor name ('model.layers.0.mlp.up_proj.weight'). */
export class QuantizedTensors {
  private readonly byName = new Map<string, GptqResult>();
  constructor(readonly settings: QuantSettings) {}
  add(layer: number, name: LinearName, q: GptqResult): void {
    this.byName.set(linearTensor(layer, name), q);
  }
  get(tensor: string): GptqResult | undefined {
    return this.byName.get(tensor);
  }
  has(tensor: string): boolean {
    return this.byName.has(tensor);
  }
  get size(): number {
    return this.byName.size;
  }
}

export function linearTensor(layer: number, name: LinearName): string {
  return `model.layers.${layer}.${name}.weight`;
}

/** The weights GPTQ quantizes: every decoder layer's seven linears (the reference's `find_layers`). */
export function quantizedLinear(tensor: string): boolean {
  const m = /^model\.layers\.\d+\.(.+)\.weight$/.exec(tensor);
  return !!m && (LINEAR_NAMES as readonly string[]).includes(m[1]);
}

export function settingsFromRecord(q: { bits: number; group_size: number; act_order: boolean; static_groups: boolean }): QuantSettings {
  return { bits: q.bits, groupSize: q.group_size, actOrder: q.act_order, staticGroups: q.static_groups };
}

/** The transformers.js dtype and file name of a MatMulNBits ONNX graph of `bits` (null: no name for it). */
export function onnxQuantVariant(bits: number): { dtype: 'q4' | 'q8' | 'q2'; file: string } | null {
  if (bits === 4) return { dtype: 'q4', file: 'model_q4.onnx' };
  if (bits === 8) return { dtype: 'q8', file: 'model_quantized.onnx' };
  if (bits === 2) return { dtype: 'q2', file: 'model_q2.onnx' };
  return null;
}

const isPow2 = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** MatMulNBits' block_size for a matrix of K input columns (the group size; K per channel). */
export function matMulNBitsBlock(q: QuantSettings, K: number): number {
  return q.groupSize === -1 ? K : q.groupSize;
}

/**
 * One-line refusals, before anything is written, for what `format` cannot hold: `shapes` are the
 * quantized linears' (N, K). BAD_ARGUMENT with what to do instead.
 */
export function checkQuantizedExport(format: QuantizedFormat, q: QuantSettings, shapes: readonly (readonly [string, number, number])[]): void {
  const group = q.groupSize === -1 ? 'per-channel' : `group size ${q.groupSize}`;
  if (format === 'onnx') {
    if (!onnxQuantVariant(q.bits)) {
      throw new PolyPruneError('BAD_ARGUMENT', `ONNX MatMulNBits export holds 2-, 4- or 8-bit codes (transformers.js q2, q4, q8), not ${q.bits}-bit; export this model as hf (dequantized) or ONNX fp32/fp16 (--onnx-variants fp32,fp16: the dequantized weights), or quantize with --bits 4.`);
    }
    if (q.actOrder && !q.staticGroups && q.groupSize !== -1) {
      throw new PolyPruneError('BAD_ARGUMENT', 'ONNX MatMulNBits stores groups of consecutive input columns and cannot store g_idx (its g_idx input is deprecated and onnxruntime-web does not read it), but act-order without static groups scatters each group over the columns; quantize with --static-groups, or export as hf-gptq (which stores g_idx).');
    }
    for (const [name, , K] of shapes) {
      const bs = matMulNBitsBlock(q, K);
      if (!(isPow2(bs) && bs >= 16)) {
        throw new PolyPruneError('BAD_ARGUMENT', q.groupSize === -1 ? `ONNX MatMulNBits needs a power-of-two block of at least 16 columns; per-channel quantization of '${name}' (${K} input columns) would need block_size ${K}; quantize with --group-size 128 (or 32, 64), or export as hf-gptq.` : `ONNX MatMulNBits needs a power-of-two block_size of at least 16; ${group} is not; quantize with --group-size 128 (or 16, 32, 64), or export as hf-gptq.`);
      }
    }
    return;
  }
  if (![2, 3, 4, 8].includes(q.bits)) {
    throw new PolyPruneError('BAD_ARGUMENT', `PolyPrune writes the hf-gptq format for 2, 3, 4 and 8 bits, not ${q.bits}; export this model as hf (dequantized), or quantize with --bits 4.`);
  }
  const { values, words } = gptqPacking(q.bits);
  for (const [name, N, K] of shapes) {
    if (K % values || N % values) {
      const per = words === 1 ? `${values} ${q.bits}-bit values per int32` : `${values} ${q.bits}-bit values per ${words} int32 words`;
      throw new PolyPruneError('BAD_ARGUMENT', `The hf-gptq format packs ${per} along both sides of a matrix; '${name}' is ${N} x ${K} (out x in), not a multiple of ${values}; export as hf (dequantized)${q.bits === 3 ? '' : ' or onnx'}.`);
    }
  }
}

/** hf-gptq's packing unit: `values` codes of `bits` bits fill `words` int32 words exactly (3 bits: 32 in 3). */
export function gptqPacking(bits: number): { values: number; words: number } {
  return bits === 3 ? { values: 32, words: 3 } : { values: 32 / bits, words: 1 };
}

/** ORs `v` (bits wide) into the little-endian bit stream `out` at field `j` of the stream starting at word `w0`, with `stride` words between consecutive stream words. */
function putField(out: Uint32Array, w0: number, stride: number, j: number, v: number, bits: number): void {
  const bit = j * bits;
  const w = w0 + (bit >>> 5) * stride;
  const off = bit & 31;
  out[w] = (out[w] | (v << off)) >>> 0;
  if (off + bits > 32) out[w + stride] = (out[w + stride] | (v >>> (32 - off))) >>> 0;
}

/** The groups of a matrix of K input columns (G of qzeros and scales). */
export function groupCount(q: QuantSettings, K: number): number {
  return q.groupSize === -1 ? 1 : Math.ceil(K / q.groupSize);
}

/** The hf-gptq tensors replacing one quantized `<p>.weight` of shape (N, K). */
export function gptqTensorMetas(weight: string, N: number, K: number, q: QuantSettings): TensorMeta[] {
  const p = weight.slice(0, -'.weight'.length);
  const G = groupCount(q, K);
  return [
    { name: `${p}.qweight`, dtype: 'I32' as SafetensorsDtype, shape: [(K * q.bits) / 32, N] },
    { name: `${p}.qzeros`, dtype: 'I32' as SafetensorsDtype, shape: [G, (N * q.bits) / 32] },
    { name: `${p}.scales`, dtype: 'F16' as SafetensorsDtype, shape: [G, N] },
    { name: `${p}.g_idx`, dtype: 'I32' as SafetensorsDtype, shape: [K] },
  ];
}

/** GPTQModel's v2 -> v1 offset for 2, 4 and 8 bits: one subtracted from every packed zero, word-wise. */
const V1_OFFSET: Record<number, number> = { 2: 0x55555555, 4: 0x11111111, 8: 0x01010101 };

/** One quantized Linear (N, K) in the GPTQ v1 layout (see the file comment). Bytes little-endian. */
export function packGptqV1(r: GptqResult, N: number, K: number, q: QuantSettings): { qweight: Uint8Array; qzeros: Uint8Array; scales: Uint8Array; gIdx: Uint8Array } {
  const bits = r.bits;
  const maxq = 2 ** bits - 1;
  const G = groupCount(q, K);
  const stored = r.scales.length / N; // the groups the quantizer kept per row
  if (stored !== G) throw new PolyPruneError('INTERNAL', `GPTQ result has ${stored} groups per row, expected ${G}`);
  // qweight (K * bits / 32, N): column n's codes along k as one bit stream down the column
  const qweight = new Uint32Array(((K * bits) / 32) * N);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) putField(qweight, n, N, k, r.codes[n * K + k], bits);
  }
  // qzeros (G, N * bits / 32): group g's zeros along n as one bit stream along the row
  const zw = (N * bits) / 32;
  const qzeros = new Uint32Array(G * zw);
  const scales = new Uint16Array(G * N);
  for (let g = 0; g < G; g++) {
    for (let n = 0; n < N; n++) {
      const z = Math.round(r.zeros[n * G + g]);
      // v1: zero - 1; 3 bits per field modulo 8 (a field straddles words), the others word-wise below
      putField(qzeros, g * zw, 1, n, bits === 3 ? (z - 1) & maxq : z, bits);
      scales[g * N + n] = f32ToF16Bits(r.scales[n * G + g]);
    }
  }
  if (bits !== 3) for (let i = 0; i < qzeros.length; i++) qzeros[i] = (qzeros[i] - V1_OFFSET[bits]) >>> 0;
  const gIdx = Int32Array.from(r.gIdx);
  const bytes = (a: Uint32Array | Uint16Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return { qweight: bytes(qweight), qzeros: bytes(qzeros), scales: bytes(scales), gIdx: bytes(gIdx) };
}

/** MatMulNBits' initializer shapes for one quantized Linear (N, K). */
export function matMulNBitsShapes(N: number, K: number, q: QuantSettings): { blockSize: number; nBlocks: number; blob: number; zpPerRow: number } {
  const blockSize = matMulNBitsBlock(q, K);
  const nBlocks = Math.ceil(K / blockSize);
  return { blockSize, nBlocks, blob: (blockSize * q.bits) / 8, zpPerRow: Math.ceil((nBlocks * q.bits) / 8) };
}

/** One quantized Linear (N, K) as MatMulNBits' B, scales (f32) and packed zero_points. */
export function packMatMulNBits(r: GptqResult, N: number, K: number, q: QuantSettings): { B: Uint8Array; scales: Float32Array; zeroPoints: Uint8Array } {
  const { blockSize, nBlocks, blob, zpPerRow } = matMulNBitsShapes(N, K, q);
  const bits = r.bits;
  const G = r.scales.length / N;
  if (G !== nBlocks) throw new PolyPruneError('INTERNAL', `GPTQ result has ${G} groups per row, MatMulNBits ${nBlocks} blocks`);
  for (let k = 0; k < K; k++) {
    if (r.gIdx[k] !== Math.floor(k / blockSize)) throw new PolyPruneError('INTERNAL', `column ${k} is in group ${r.gIdx[k]}, not a consecutive block`);
  }
  const B = new Uint8Array(N * nBlocks * blob);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = Math.floor(k / blockSize);
      const bit = (k % blockSize) * bits;
      B[(n * nBlocks + b) * blob + (bit >> 3)] |= r.codes[n * K + k] << (bit & 7);
    }
  }
  const zeroPoints = new Uint8Array(N * zpPerRow);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nBlocks; b++) {
      const bit = b * bits;
      zeroPoints[n * zpPerRow + (bit >> 3)] |= Math.round(r.zeros[n * G + b]) << (bit & 7);
    }
  }
  return { B, scales: Float32Array.from(r.scales), zeroPoints };
}

/** config.json's `quantization_config` of an hf-gptq export (transformers GPTQConfig / GPTQModel QuantizeConfig fields). */
export function gptqQuantizationConfig(q: QuantSettings, toolVersion: string, percdamp = 0.01): Record<string, unknown> {
  return {
    quant_method: 'gptq',
    bits: q.bits,
    group_size: q.groupSize,
    desc_act: q.actOrder,
    static_groups: q.staticGroups,
    sym: false,
    true_sequential: false,
    damp_percent: percdamp,
    checkpoint_format: 'gptq',
    pack_dtype: 'int32',
    lm_head: false,
    meta: { quantizer: [`polyprune:${toolVersion}`] },
  };
}

/** The tensors of an hf-gptq folder: each quantized linear's weight replaced by its four GPTQ tensors. */
export function gptqFolderMetas(metas: readonly TensorMeta[], q: QuantSettings): TensorMeta[] {
  return metas.flatMap((t) => (quantizedLinear(t.name) ? gptqTensorMetas(t.name, t.shape[0], t.shape[1], q) : [t]));
}

/** The quantized linears' (name, N, K) among `metas`. */
export function quantizedShapes(metas: readonly TensorMeta[]): [string, number, number][] {
  return metas.filter((t) => quantizedLinear(t.name)).map((t) => [t.name, t.shape[0], t.shape[1]]);
}

/** The quantized linears' (name, N, K) of a Llama-family model, from its dimensions alone (the page and the CLI check a format before any work). */
export function quantizableShapes(m: { numLayers: number; hiddenSize: number; intermediateSize: number; numHeads: number; numKvHeads: number; headDim: number }): [string, number, number][] {
  const C = m.hiddenSize;
  const F = m.intermediateSize;
  const shape: Record<LinearName, [number, number]> = {
    'self_attn.q_proj': [m.numHeads * m.headDim, C],
    'self_attn.k_proj': [m.numKvHeads * m.headDim, C],
    'self_attn.v_proj': [m.numKvHeads * m.headDim, C],
    'self_attn.o_proj': [C, m.numHeads * m.headDim],
    'mlp.gate_proj': [F, C],
    'mlp.up_proj': [F, C],
    'mlp.down_proj': [C, F],
  };
  return Array.from({ length: m.numLayers }, (_, i) => LINEAR_NAMES.map((n): [string, number, number] => [linearTensor(i, n), ...shape[n]])).flat();
}
