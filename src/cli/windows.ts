import { PolyPruneError } from '../common/errors';
import { pathSource } from '../io/node';
import { openSafetensors } from '../io/safetensors';

const ID_DTYPES = new Set(['I32', 'I64', 'U32', 'I16', 'U16', 'U8', 'I8']);

/**
 * Explicit token windows from a safetensors file: `input_ids` I32 [n, seqlen]. Only the file's shape
 * is checked here; the ids are checked against the model's vocabulary by the engine (one check for
 * every way ids come in). The file is closed on every path.
 */
export async function readTokenWindows(file: string): Promise<{ ids: Int32Array; n: number; seqlen: number; name: string }> {
  const src = pathSource(file);
  let f;
  try {
    f = await openSafetensors(src);
  } catch (e) {
    await src.close?.().catch(() => undefined);
    throw e;
  }
  try {
    const info = f.tensors.get('input_ids');
    if (!info || info.shape.length !== 2) throw new PolyPruneError('CALIBRATION_INVALID', `${file}: needs a tensor 'input_ids' of shape [n, seqlen] (I32).`);
    if (!ID_DTYPES.has(info.dtype)) throw new PolyPruneError('CALIBRATION_INVALID', `${file}: 'input_ids' is ${info.dtype}; token ids must be an integer tensor (I32 or I64).`);
    const [n, seqlen] = info.shape;
    if (n === 0 || seqlen === 0) throw new PolyPruneError('BAD_ARGUMENT', `${file}: input_ids is empty ([${n}, ${seqlen}]).`);
    const ids = await f.readI32('input_ids');
    return { ids, n, seqlen, name: file };
  } finally {
    await f.close();
  }
}
