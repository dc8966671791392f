import { PolyPruneError } from '../common/errors';
import { pathSource } from '../io/node';
import { openSafetensors } from '../io/safetensors';

/** Explicit token windows from a safetensors file: `input_ids` I32 [n, seqlen]. */
export async function readTokenWindows(file: string): Promise<{ ids: Int32Array; n: number; seqlen: number }> {
  const f = await openSafetensors(pathSource(file));
  try {
    const info = f.tensors.get('input_ids');
    if (!info || info.shape.length !== 2) throw new PolyPruneError('CALIBRATION_INVALID', `${file}: needs a tensor 'input_ids' of shape [n, seqlen] (I32).`);
    const ids = await f.readI32('input_ids');
    const [n, seqlen] = info.shape;
    if (n === 0 || seqlen === 0) throw new PolyPruneError('BAD_ARGUMENT', `${file}: input_ids is empty ([${n}, ${seqlen}]).`);
    return { ids, n, seqlen };
  } finally {
    await f.close();
  }
}
