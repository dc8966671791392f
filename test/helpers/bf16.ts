/**
 * 16-bit copies of a model folder for the packed-weights tests: every floating tensor rounded to
 * BF16 (or F16, nearest even) and stored as such, and an F32 "twin" holding exactly the same values
 * as F32 (the unpacked path on the same weights). Config and tokenizer files are copied.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dirFolder } from '../../src/io/node';
import { openCheckpoint, serializeSafetensors, type TensorToWrite } from '../../src/io/safetensors';
import { bytesToF32, encode16 } from '../../src/io/dtypes';

const COPIED = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.model', 'generation_config.json'];

/** Writes `<dst>/bf16` (or f16) and (withTwin) `<dst>/twin-f32` from `src`; returns their paths. */
export async function write16BitCopies(src: string, dst: string, dtype: 'BF16' | 'F16' = 'BF16', withTwin = true): Promise<{ packed: string; twin: string }> {
  const packed = join(dst, dtype.toLowerCase());
  const twin = join(dst, 'twin-f32');
  const ckpt = await openCheckpoint(dirFolder(src));
  const a: TensorToWrite[] = [];
  const b: TensorToWrite[] = [];
  for (const name of ckpt.names()) {
    const info = ckpt.info(name);
    const v = await ckpt.readF32(name);
    const bits = encode16(v, dtype === 'BF16' ? 'bf16' : 'f16').subarray(0, v.length);
    a.push({ name, dtype, shape: info.shape, data: bits });
    b.push({ name, dtype: 'F32', shape: info.shape, data: bytesToF32(new Uint8Array(bits.buffer, 0, v.length * 2), dtype, name) });
  }
  await ckpt.close();
  for (const [dir, tensors] of withTwin ? [[packed, a], [twin, b]] as const : [[packed, a]] as const) {
    mkdirSync(dir, { recursive: true });
    for (const f of COPIED) if (existsSync(join(src, f))) copyFileSync(join(src, f), join(dir, f));
    const chunks = serializeSafetensors(tensors);
    writeFileSync(join(dir, 'model.safetensors'), Buffer.concat(chunks));
  }
  return { packed, twin };
}
