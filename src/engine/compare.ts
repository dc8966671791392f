/**
 * Mask overlap of two checkpoints of the same architecture, streamed matrix by matrix: for each
 * decoder layer and each pruned linear matrix (wanda's order), both tensors are read, their zero
 * positions packed into bitsets (1 bit per weight) and the IoU |A ∩ B| / |A ∪ B| taken, then both
 * are dropped, so at most two matrices are in memory. The same definition as the experiment's
 * mask-overlap table (`maskOverlap`), where a pruned weight is a zero weight.
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import { openCheckpoint } from '../io/safetensors';
import type { ModelFolder } from '../io/source';
import { LINEAR_NAMES } from '../model/names';
import { maskIou, packMask } from '../prune/mask';
import type { MaskOverlap } from './api';

export interface CheckpointMaskOverlap extends MaskOverlap {
  /** Zeros over weights of the compared matrices, per model. */
  sparsity: [number, number];
}

const LAYER_RE = /^model\.layers\.(\d+)\./;

export async function compareCheckpointMasks(a: ModelFolder, b: ModelFolder, opts: { signal?: AbortSignal; onMatrix?: (layer: number, matrix: string, iou: number | null) => void } = {}): Promise<CheckpointMaskOverlap> {
  const ca = await openCheckpoint(a);
  const cb = await openCheckpoint(b);
  try {
    const layersOf = (names: string[]) => 1 + Math.max(-1, ...names.map((n) => Number(LAYER_RE.exec(n)?.[1] ?? -1)));
    const la = layersOf(ca.names());
    const lb = layersOf(cb.names());
    if (la !== lb || la === 0) throw new PolyPruneError('CHECKPOINT_MISMATCH', `The two checkpoints have different decoder layers (${a.location}: ${la}, ${b.location}: ${lb}); compare two checkpoints of the same architecture.`);
    const iou: (number | null)[][] = [];
    const zeros = [0, 0];
    let total = 0;
    for (let l = 0; l < la; l++) {
      const row: (number | null)[] = [];
      for (const m of LINEAR_NAMES) {
        throwIfAborted(opts.signal);
        const name = `model.layers.${l}.${m}.weight`;
        const ia = ca.info(name);
        const ib = cb.info(name);
        if (ia.shape.join('x') !== ib.shape.join('x')) throw new PolyPruneError('CHECKPOINT_MISMATCH', `${name} is [${ia.shape.join(', ')}] in ${a.location} but [${ib.shape.join(', ')}] in ${b.location}; compare two checkpoints of the same architecture.`);
        const ma = packMask(await ca.readF32(name));
        const mb = packMask(await cb.readF32(name));
        for (const [k, mask] of [ma, mb].entries()) for (const w of mask) zeros[k] += popcount(w);
        total += ia.shape.reduce((x, y) => x * y, 1);
        const v = maskIou(ma, mb);
        row.push(v);
        opts.onMatrix?.(l, m, v);
      }
      iou.push(row);
    }
    return { matrices: [...LINEAR_NAMES], iou, sparsity: [zeros[0] / total, zeros[1] / total] };
  } finally {
    await ca.close();
    await cb.close();
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
