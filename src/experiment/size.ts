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

import { meanSpread, type ExperimentRecord } from './records';

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

/** A row's mean perplexity over the evaluation languages and mean task accuracy over every task (each cell: its mean over seeds); null when nothing was measured. */
export function rowMeans(rec: ExperimentRecord, r: number): { ppl: number | null; acc: number | null } {
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const ppl: number[] = [];
  const acc: number[] = [];
  rec.cells[r].forEach((c) => {
    const p = meanSpread(c.ppl);
    if (p) ppl.push(p.mean);
    for (const a of c.acc) {
      const m = meanSpread(a);
      if (m) acc.push(m.mean);
    }
  });
  return { ppl: avg(ppl), acc: avg(acc) };
}

/** One row as the winner at each size sees it: its bytes, mean perplexity and mean task accuracy (null: not measured). */
export interface SizedRow {
  bytes: number;
  ppl: number | null;
  acc: number | null;
}

/**
 * Which row wins at each size: for every distinct size (smallest first), the index of the row with the
 * lowest mean perplexity among the rows no larger (rows without perplexity, and ties: by task accuracy).
 */
export function winnersAtSize(rows: readonly (SizedRow | null)[]): { bytes: number; row: number }[] {
  const idx = rows.map((_, i) => i).filter((i) => rows[i] && (rows[i]!.ppl !== null || rows[i]!.acc !== null));
  const better = (a: number, b: number): boolean => {
    const x = rows[a]!;
    const y = rows[b]!;
    if (x.ppl !== null && y.ppl !== null && x.ppl !== y.ppl) return x.ppl < y.ppl;
    if (x.ppl !== null && y.ppl === null) return true;
    if (x.ppl === null && y.ppl !== null) return false;
    return (x.acc ?? -1) > (y.acc ?? -1);
  };
  const sizes = [...new Set(idx.map((i) => rows[i]!.bytes))].sort((a, b) => a - b);
  return sizes.map((bytes) => ({ bytes, row: idx.filter((i) => rows[i]!.bytes <= bytes).reduce((w, i) => (better(i, w) ? i : w)) }));
}

/** The winner at each size among an experiment's pruned and quantized rows (the dense row is the reference, not a candidate). */
export function sizeWinners(rec: ExperimentRecord): { bytes: number; row: number }[] {
  return winnersAtSize(rec.rows.map((row, r) => (r > 0 && row.size ? { bytes: row.size.bytes, ...rowMeans(rec, r) } : null)));
}

/** How the page and the CLI name a size's format. */
export const SIZE_FORMAT = { safetensors: 'HF safetensors (dense)', gptq: 'HF GPTQ' } as const;

/** The size table: per row the exported bytes and their format, mean perplexity and mean task accuracy; then the winner at each size. */
export function studySizeMarkdown(rec: ExperimentRecord): string {
  const lines = ['| row | exported bytes | format | mean perplexity | mean task accuracy |', '|---|---:|---|---:|---:|'];
  rec.rows.forEach((row, r) => {
    const m = rowMeans(rec, r);
    lines.push(`| ${r === 0 ? 'dense' : row.label} | ${row.size ? row.size.bytes.toLocaleString('en-US') : '—'} | ${row.size ? SIZE_FORMAT[row.size.format] : '—'} | ${m.ppl === null ? '—' : m.ppl.toFixed(2)} | ${m.acc === null ? '—' : m.acc.toFixed(4)} |`);
  });
  const wins = sizeWinners(rec);
  if (wins.length) {
    lines.push('', 'Best row at each size (lowest mean perplexity among the rows no larger):');
    for (const w of wins) lines.push(`- at most ${w.bytes.toLocaleString('en-US')} bytes: ${rec.rows[w.row].label}`);
  }
  return lines.join('\n');
}
