#!/usr/bin/env node
// Writes a Llama-3-8B-shaped Hugging Face folder with random BF16 weights (no download), and random
// calibration token windows, for tools/gpu-bench/run.sh.
//   node make-checkpoint.mjs OUT_DIR [LAYERS=32] [NSAMPLES=128] [SEQLEN=2048]
// OUT_DIR/model: config.json (meta-llama/Meta-Llama-3-8B's shape), model.safetensors (BF16, one file,
// streamed to disk tensor by tensor; values uniform in [-1, 1) from one reused random pool: timing needs
// no independent weights), tokenizer.json + tokenizer_config.json (the bundled default
// model's, only so that the folder loads; the windows are token ids).
// OUT_DIR/windows.safetensors: input_ids I32 [NSAMPLES, SEQLEN], ids below the tokenizer's vocabulary.
import { openSync, writeSync, closeSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [out, layersArg, nArg, sArg] = process.argv.slice(2);
if (!out) {
  console.error('usage: node make-checkpoint.mjs OUT_DIR [LAYERS=32] [NSAMPLES=128] [SEQLEN=2048]');
  process.exit(2);
}
const L = Number(layersArg ?? 32);
const N = Number(nArg ?? 128);
const S = Number(sArg ?? 2048);
const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const C = 4096, F = 14336, H = 32, Hkv = 8, D = 128, V = 128256;
const config = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: C, intermediate_size: F, num_hidden_layers: L,
  num_attention_heads: H, num_key_value_heads: Hkv, vocab_size: V, max_position_embeddings: 8192, rms_norm_eps: 1e-5,
  rope_theta: 500000, hidden_act: 'silu', tie_word_embeddings: false, bos_token_id: 128000, eos_token_id: 128001, torch_dtype: 'bfloat16',
};
const dir = join(out, 'model');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(repo, 'public/models/polyprune-ml', f), join(dir, f));

const tensors = [['model.embed_tokens.weight', [V, C]]];
for (let i = 0; i < L; i++) {
  const p = `model.layers.${i}`;
  tensors.push([`${p}.input_layernorm.weight`, [C]], [`${p}.self_attn.q_proj.weight`, [H * D, C]], [`${p}.self_attn.k_proj.weight`, [Hkv * D, C]],
    [`${p}.self_attn.v_proj.weight`, [Hkv * D, C]], [`${p}.self_attn.o_proj.weight`, [C, H * D]], [`${p}.post_attention_layernorm.weight`, [C]],
    [`${p}.mlp.gate_proj.weight`, [F, C]], [`${p}.mlp.up_proj.weight`, [F, C]], [`${p}.mlp.down_proj.weight`, [C, F]]);
}
tensors.push(['model.norm.weight', [C]], ['lm_head.weight', [V, C]]);

function header(list) {
  const h = {};
  let off = 0;
  for (const [name, shape, dtype = 'BF16', size = 2] of list) {
    const bytes = shape.reduce((a, b) => a * b, 1) * size;
    h[name] = { dtype, shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(h);
  while (json.length % 8) json += ' ';
  const buf = Buffer.alloc(8 + json.length);
  buf.writeBigUInt64LE(BigInt(json.length), 0);
  buf.write(json, 8, 'utf8');
  return { buf, total: off };
}

/** BF16 bits of uniform values in [-1, 1), xorshift32; generated once and reused (timing needs no independence). */
const POOL = 1 << 24;
const pool = new Uint16Array(POOL + (1 << 20));
{
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = 12345;
  for (let i = 0; i < pool.length; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    f[0] = (s / 4294967296) * 2 - 1;
    pool[i] = u[0] >>> 16;
  }
}
let shift = 0;
/** The next k random values (a window of the pool at a moving offset). */
function randomSlice(k) {
  shift = (shift + 7919) % (1 << 20);
  return pool.subarray(shift, shift + k);
}

const { buf, total } = header(tensors);
const fd = openSync(join(dir, 'model.safetensors'), 'w');
writeSync(fd, buf);
const ones = new Uint16Array(1 << 16).fill(0x3f80); // norm weights = 1.0
const t0 = Date.now();
let written = 0;
for (const [name, shape] of tensors) {
  let n = shape.reduce((a, b) => a * b, 1);
  const isNorm = name.endsWith('norm.weight');
  while (n > 0) {
    const k = Math.min(n, isNorm ? ones.length : POOL);
    const view = isNorm ? ones.subarray(0, k) : randomSlice(k);
    writeSync(fd, new Uint8Array(view.buffer, view.byteOffset, 2 * k));
    n -= k;
    written += 2 * k;
  }
  process.stderr.write(`\r${(written / 2 ** 30).toFixed(1)} / ${(total / 2 ** 30).toFixed(1)} GiB`);
}
closeSync(fd);
process.stderr.write(`\nwrote ${dir} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

// Calibration windows: random ids below the bundled tokenizer's vocabulary (8192).
const ids = new Int32Array(N * S);
let s = 7;
for (let i = 0; i < ids.length; i++) { s = (s * 1664525 + 1013904223) >>> 0; ids[i] = s % 8192; }
const w = header([['input_ids', [N, S], 'I32', 4]]);
writeFileSync(join(out, 'windows.safetensors'), Buffer.concat([w.buf, Buffer.from(ids.buffer)]));
process.stderr.write(`wrote ${join(out, 'windows.safetensors')} (${N} x ${S})\n`);
