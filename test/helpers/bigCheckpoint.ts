/**
 * A Hugging Face folder of the shape of a big model whose model.safetensors is a sparse file: a real
 * header, then a hole of the full size (no disk space used). Only what reads headers can use it (plans,
 * config checks); reading weights gets zeros.
 */
import { closeSync, openSync, writeFileSync, writeSync, ftruncateSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expectedTensors, parseModelConfig } from '../../src/io/config';

/** Llama-3-8B's config.json (meta-llama/Meta-Llama-3-8B). */
export const LLAMA3_8B_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 8192,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  hidden_act: 'silu',
  tie_word_embeddings: false,
  bos_token_id: 128000,
  eos_token_id: 128001,
  torch_dtype: 'bfloat16',
};

/** Writes config.json and a sparse BF16 model.safetensors; returns the file's size in bytes. */
export function writeSparseCheckpoint(dir: string, config: Record<string, unknown>): number {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const cfg = parseModelConfig(config, 'config.json');
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const t of expectedTensors(cfg)) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  while (json.length % 8) json += ' ';
  const head = Buffer.alloc(8 + json.length);
  head.writeBigUInt64LE(BigInt(json.length), 0);
  head.write(json, 8, 'utf8');
  const path = join(dir, 'model.safetensors');
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  ftruncateSync(fd, head.length + off);
  closeSync(fd);
  return head.length + off;
}
