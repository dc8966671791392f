/**
 * Mask overlap of two models of the same architecture, streamed matrix by matrix: for each decoder
 * layer and each pruned linear matrix (wanda's order), both masks are taken (a checkpoint's tensor
 * read and its zero positions packed into a bitset, 1 bit per weight; a pruned model the engine holds
 * gives its kept bitset), the IoU |A ∩ B| / |A ∪ B| computed, and both dropped, so at most two
 * matrices are in memory. The same definition as the experiment's mask-overlap table
 * (`maskOverlap`), where a pruned weight is a zero weight. `Engine.compareModels` and
 * `polyprune compare` use it.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { Checkpoint } from '../io/safetensors';
import { LINEAR_NAMES } from '../model/names';
import { maskIou, packMask, type ModelMask } from '../prune/mask';
import type { MaskOverlap } from './api';

export interface CheckpointMaskOverlap extends MaskOverlap {
  /** Zeros over weights of the compared matrices, per model. */
  sparsity: [number, number];
}

/** Where one side's masks come from: matrix shapes, decoder layers, and the mask of (layer, matrix index). */
export interface MaskSource {
  location: string;
  layers: number;
  shape(name: string): readonly number[];
  mask(layer: number, matrix: number): Promise<Uint32Array>;
}

const LAYER_RE = /^model\.layers\.(\d+)\./;
const tensorName = (layer: number, matrix: number) => `model.layers.${layer}.${LINEAR_NAMES[matrix]}.weight`;

/** Masks read from a checkpoint's tensors (zero weights), one tensor at a time. */
export function checkpointMaskSource(ckpt: Checkpoint, location: string): MaskSource {
  return {
    location,
    layers: 1 + Math.max(-1, ...ckpt.names().map((n) => Number(LAYER_RE.exec(n)?.[1] ?? -1))),
    shape: (name) => ckpt.info(name).shape,
    mask: async (l, j) => packMask(await ckpt.readF32(tensorName(l, j))),
  };
}

/** Masks a pruned model already holds (bitsets), with the shapes of its checkpoint. */
export function heldMaskSource(mask: ModelMask, ckpt: Checkpoint, location: string): MaskSource {
  if (mask.matrices.join() !== LINEAR_NAMES.join()) throw new PolyPruneError('INTERNAL', `A held mask lists matrices ${mask.matrices.join(', ')}; expected ${LINEAR_NAMES.join(', ')}.`);
  return { location, layers: mask.layers.length, shape: (name) => ckpt.info(name).shape, mask: async (l, j) => mask.layers[l][j] };
}

export interface CompareMasksOptions {
  signal?: AbortSignal;
  onMatrix?: (layer: number, matrix: string, iou: number | null, done: number, total: number) => void;
}

export async function compareMaskSources(a: MaskSource, b: MaskSource, opts: CompareMasksOptions = {}): Promise<CheckpointMaskOverlap> {
  if (a.layers !== b.layers || a.layers === 0) throw new PolyPruneError('CHECKPOINT_MISMATCH', `The two models have different decoder layers (${a.location}: ${a.layers}, ${b.location}: ${b.layers}); compare two checkpoints of the same architecture.`);
  const iou: (number | null)[][] = [];
  const zeros = [0, 0];
  let total = 0;
  const count = a.layers * LINEAR_NAMES.length;
  for (let l = 0; l < a.layers; l++) {
    const row: (number | null)[] = [];
    for (const [j, m] of LINEAR_NAMES.entries()) {
      throwIfAborted(opts.signal);
      const name = tensorName(l, j);
      const sa = a.shape(name);
      const sb = b.shape(name);
      if (sa.join('x') !== sb.join('x')) throw new PolyPruneError('CHECKPOINT_MISMATCH', `${name} is [${sa.join(', ')}] in ${a.location} but [${sb.join(', ')}] in ${b.location}; compare two checkpoints of the same architecture.`);
      const ma = await a.mask(l, j);
      const mb = await b.mask(l, j);
      for (const [k, mask] of [ma, mb].entries()) for (const w of mask) zeros[k] += popcount(w);
      total += sa.reduce((x, y) => x * y, 1);
      const v = maskIou(ma, mb);
      row.push(v);
      opts.onMatrix?.(l, m, v, l * LINEAR_NAMES.length + j + 1, count);
    }
    iou.push(row);
  }
  return { matrices: [...LINEAR_NAMES], iou, sparsity: [zeros[0] / total, zeros[1] / total] };
}

/** Mean of the non-null IoUs of each layer, and of all. */
export function iouMeans(iou: (number | null)[][]): { layers: (number | null)[]; mean: number | null } {
  const avg = (xs: (number | null)[]): number | null => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
  };
  return { layers: iou.map(avg), mean: avg(iou.flat()) };
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
