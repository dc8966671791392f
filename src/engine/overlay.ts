import type { Checkpoint, CheckpointTensorInfo } from '../io/safetensors';
import { bytesToF32, bytesToI32 } from '../io/dtypes';
import type { PrunedTensors } from '../export/hf';

/**
 * A checkpoint whose pruned tensors come from the PrunedTensors store (memory or a spill file, in the
 * source dtype, exactly the bytes an export writes) and everything else from the source. A pruned
 * model is loaded from it, so what is evaluated is what is exported; a range of a spilled tensor
 * reads only that range from the file.
 */
export function overlayCheckpoint(base: Checkpoint, pruned: PrunedTensors): Checkpoint {
  const raw = async (name: string) => (pruned.has(name) ? pruned.get(name) : undefined);
  return {
    location: base.location,
    files: base.files,
    metadata: base.metadata,
    names: () => base.names(),
    has: (n) => base.has(n),
    info: (n): CheckpointTensorInfo => base.info(n),
    readRaw: async (n) => (await raw(n)) ?? base.readRaw(n),
    readRawRange: async (n, start, length) => {
      if (pruned.has(n)) return pruned.read(n, start, length);
      return base.readRawRange ? base.readRawRange(n, start, length) : (await base.readRaw(n)).slice(start, start + length);
    },
    readF32: async (n) => {
      const r = await raw(n);
      return r ? bytesToF32(r, base.info(n).dtype, n) : base.readF32(n);
    },
    readI32: async (n) => {
      const r = await raw(n);
      return r ? bytesToI32(r, base.info(n).dtype, n) : base.readI32(n);
    },
    close: () => base.close(),
  };
}
