/**
 * Pruning masks as bitsets (1 bit per weight: set = the weight is zero after pruning) and their
 * overlap: IoU = |A ∩ B| / |A ∪ B| of the pruned positions of two models, per layer and matrix (the
 * study's mask analysis). One bit per weight is 1/32 of the f32 weights, small enough to keep the
 * masks of every row of an experiment.
 */
import { PolyPruneError } from '../common/errors';

/** Bitset of the zero entries of `w`. */
export function packMask(w: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(Math.ceil(w.length / 32));
  for (let i = 0; i < w.length; i++) if (w[i] === 0) out[i >>> 5] |= 1 << (i & 31);
  return out;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** IoU of two masks of the same matrix; null when neither prunes anything. */
export function maskIou(a: Uint32Array, b: Uint32Array): number | null {
  if (a.length !== b.length) throw new PolyPruneError('BAD_ARGUMENT', `Masks of different sizes (${a.length * 32} and ${b.length * 32} bits) cannot be compared.`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += popcount(a[i] & b[i]);
    union += popcount(a[i] | b[i]);
  }
  return union ? inter / union : null;
}

/** Masks of one pruned model: `layers[layer][matrix]`, matrix order as `matrices`. */
export interface ModelMask {
  matrices: string[];
  layers: Uint32Array[][];
}

/** Per layer and matrix IoU of two models' masks (same architecture). */
export function modelMaskIou(a: ModelMask, b: ModelMask): (number | null)[][] {
  if (a.layers.length !== b.layers.length || a.matrices.join() !== b.matrices.join()) {
    throw new PolyPruneError('BAD_ARGUMENT', 'The two pruned models have different layers; their masks cannot be compared.');
  }
  return a.layers.map((row, i) => row.map((m, j) => maskIou(m, b.layers[i][j])));
}
