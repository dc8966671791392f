/**
 * The size column of the grid: the bytes of the weight files of the exported model, from the model's
 * shape alone (no export is run). What each row's figure is:
 * - dense and pruned rows: the Hugging Face folder PolyPrune exports (`model.safetensors`, every tensor
 *   in the checkpoint's dtype, pruned zeros stored as zeros): the checkpoint's weight bytes. Pruning
 *   does not make that file smaller; PolyPrune writes no sparse format.
 * - quantized rows (GPTQ, and SparseGPT with bits): the Hugging Face GPTQ folder (AutoGPTQ/transformers
 *   layout): per linear (out N, in K, G groups) `qweight` int32 [K x bits / 32, N], `qzeros` int32
 *   [G, N x bits / 32], `scales` float16 [G, N], `g_idx` int32 [K]; every other tensor (embeddings,
 *   norms, the head, biases) as stored.
 * Safetensors headers and the JSON/tokenizer files are not counted (a few kB, the same for every row).
 * One small function so that src/export's exportedBytes can replace it.
 */

/** What the size needs from the engine's ModelSummary. */
export interface SizeModel {
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  parameters: number;
  checkpointBytes: number;
}

/** The format a row's size refers to (shown beside the figure). */
export type SizeFormat = 'safetensors' | 'gptq';

/** Bytes of one quantized linear (out n, in k) in the HF GPTQ layout. */
export function gptqLinearBytes(n: number, k: number, bits: number, groupSize: number): number {
  const g = groupSize === -1 ? 1 : Math.ceil(k / groupSize);
  return 4 * Math.ceil((k * bits) / 32) * n + 4 * g * Math.ceil((n * bits) / 32) + 2 * g * n + 4 * k;
}

/** The (out, in) shapes of one decoder layer's seven linears. */
function layerLinears(m: SizeModel): [number, number][] {
  const C = m.hiddenSize;
  const q = m.numHeads * m.headDim;
  const kv = m.numKvHeads * m.headDim;
  const F = m.intermediateSize;
  return [
    [q, C],
    [kv, C],
    [kv, C],
    [C, q],
    [F, C],
    [F, C],
    [C, F],
  ];
}

/**
 * Bytes of the weight files of the exported model: the checkpoint's for a dense or pruned row, the
 * HF GPTQ folder's for a quantized one (see the file comment).
 */
export function exportedWeightBytes(m: SizeModel, quantize?: { bits: number; groupSize: number } | null): { bytes: number; format: SizeFormat } {
  if (!quantize) return { bytes: m.checkpointBytes, format: 'safetensors' };
  // bytes per stored parameter (exact for a checkpoint in one dtype)
  const per = m.checkpointBytes / Math.max(1, m.parameters);
  let linearParams = 0;
  let packed = 0;
  for (const [n, k] of layerLinears(m)) {
    linearParams += n * k;
    packed += gptqLinearBytes(n, k, quantize.bits, quantize.groupSize);
  }
  const bytes = Math.round(m.checkpointBytes - m.numLayers * linearParams * per) + m.numLayers * packed;
  return { bytes, format: 'gptq' };
}
