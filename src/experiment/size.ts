/**
 * The size column of the grid: the bytes of the model files of each row's export, from the export's
 * own accounting (src/export/size.ts `exportedBytes`, through `Engine.exportSizes` of the base model;
 * no export is run). The figure is the bytes those files have when the row's model is exported:
 * - dense and pruned rows: the Hugging Face folder (`hf`: model.safetensors or its shards and index,
 *   every tensor in the checkpoint's dtype, pruned zeros stored as zeros). Pruning does not make that
 *   file smaller; PolyPrune writes no sparse format.
 * - quantized rows (GPTQ, and SparseGPT with bits): the Hugging Face GPTQ folder (`hf-gptq`: qweight,
 *   qzeros, scales, g_idx per linear, every other tensor as stored) where that format can hold the
 *   model; where it cannot (a matrix side that is not a multiple of 32/bits), the `hf` folder of the
 *   dequantized weights, which is what an export of that row can store in safetensors.
 * config.json, tokenizer files and pruning.json are not counted (a few kB, the same for every row).
 */

import type { Engine, ExportQuantSettings, ExportSizes } from '../engine/api';
import { PolyPruneError } from '../common/errors';
import { meanSpread, type ExperimentRecord } from './records';

/** The format a row's size refers to (shown beside the figure). */
export type SizeFormat = 'safetensors' | 'gptq';

/** A row's size: bytes of its exported model files and their format. */
export interface RowSize {
  bytes: number;
  format: SizeFormat;
}

/** The size of a row with this quantizer (null: dense or pruned). */
export type RowSizer = (quantize: ExportQuantSettings | null) => Promise<RowSize>;

/** A row's size from an export's sizes (Engine.exportSizes): hf-gptq for a quantized row where it holds the model, else hf. */
export function rowSizeOf(sizes: ExportSizes, quantized: boolean): RowSize {
  const g = sizes['hf-gptq'];
  if (quantized && 'bytes' in g) return { bytes: g.bytes, format: 'gptq' };
  const h = sizes.hf;
  if (!('bytes' in h)) throw new PolyPruneError('BAD_ARGUMENT', h.refused);
  return { bytes: h.bytes, format: 'safetensors' };
}

/** The size column of a base model loaded in `engine`: its export sizes as is, or as if quantized with the row's settings (one engine call per distinct quantizer). */
export function engineRowSizer(engine: Pick<Engine, 'exportSizes'>, baseId: string): RowSizer {
  const memo = new Map<string, Promise<RowSize>>();
  return (quantize) => {
    const key = JSON.stringify(quantize);
    let p = memo.get(key);
    if (!p) {
      p = engine.exportSizes(baseId, quantize ? { quantize } : undefined).then((s) => rowSizeOf(s, !!quantize));
      memo.set(key, p);
    }
    return p;
  };
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
