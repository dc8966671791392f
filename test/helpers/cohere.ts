/**
 * A small random-weight checkpoint in Hugging Face Cohere layout (CohereForCausalLM: config.json,
 * model.safetensors, the stories260K tokenizer files), and a runner for the independent float64
 * reference tools/cohere-reference/cohere_ref.py (Python 3 + numpy; fails loudly when missing).
 */
import { copyFileSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { safetensorsBytes, type TensorToWrite } from '../../src/io/safetensors';
import { randn } from './gpu';
import { FIXTURE, requireShared } from './fixture';
import { readF64, runPythonReference } from './pythonRef';

export interface CohereDims {
  hidden: number; // C
  ffn: number; // F
  layers: number; // L
  heads: number; // H
  kvHeads: number; // Hkv
  vocab: number; // V (512: the stories260K tokenizer)
  qkNorm: boolean;
  logitScale: number;
  attentionBias?: boolean;
}

/** Writes the checkpoint into `dir`; returns the tensors (f32) by name. */
export function writeCohereCheckpoint(dir: string, d: CohereDims, seed = 1): Map<string, Float32Array> {
  mkdirSync(dir, { recursive: true });
  const D = d.hidden / d.heads;
  const config = {
    architectures: ['CohereForCausalLM'],
    model_type: 'cohere',
    hidden_size: d.hidden,
    intermediate_size: d.ffn,
    num_hidden_layers: d.layers,
    num_attention_heads: d.heads,
    num_key_value_heads: d.kvHeads,
    vocab_size: d.vocab,
    hidden_act: 'silu',
    layer_norm_eps: 1e-5,
    logit_scale: d.logitScale,
    rope_theta: 10000,
    use_qk_norm: d.qkNorm,
    attention_bias: d.attentionBias ?? false,
    tie_word_embeddings: true,
    max_position_embeddings: 256,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'float32',
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(requireShared(join(FIXTURE, f)), join(dir, f));
  const tensors = new Map<string, Float32Array>();
  let s = seed * 1000;
  const add = (name: string, shape: number[], scale: number, offset = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = randn(n, ++s, scale);
    if (offset) for (let i = 0; i < n; i++) v[i] += offset;
    tensors.set(name, v);
    return shape;
  };
  const shapes = new Map<string, number[]>();
  const lin = (name: string, out: number, inF: number, bias: boolean) => {
    shapes.set(`${name}.weight`, add(`${name}.weight`, [out, inF], Math.sqrt(3 / inF)));
    if (bias) shapes.set(`${name}.bias`, add(`${name}.bias`, [out], 0.1));
  };
  shapes.set('model.embed_tokens.weight', add('model.embed_tokens.weight', [d.vocab, d.hidden], 1));
  for (let i = 0; i < d.layers; i++) {
    const p = `model.layers.${i}`;
    shapes.set(`${p}.input_layernorm.weight`, add(`${p}.input_layernorm.weight`, [d.hidden], 0.2, 1));
    const b = d.attentionBias ?? false;
    lin(`${p}.self_attn.q_proj`, d.heads * D, d.hidden, b);
    lin(`${p}.self_attn.k_proj`, d.kvHeads * D, d.hidden, b);
    lin(`${p}.self_attn.v_proj`, d.kvHeads * D, d.hidden, b);
    lin(`${p}.self_attn.o_proj`, d.hidden, d.heads * D, b);
    if (d.qkNorm) {
      shapes.set(`${p}.self_attn.q_norm.weight`, add(`${p}.self_attn.q_norm.weight`, [d.heads, D], 0.2, 1));
      shapes.set(`${p}.self_attn.k_norm.weight`, add(`${p}.self_attn.k_norm.weight`, [d.kvHeads, D], 0.2, 1));
    }
    lin(`${p}.mlp.gate_proj`, d.ffn, d.hidden, false);
    lin(`${p}.mlp.up_proj`, d.ffn, d.hidden, false);
    lin(`${p}.mlp.down_proj`, d.hidden, d.ffn, false);
  }
  shapes.set('model.norm.weight', add('model.norm.weight', [d.hidden], 0.2, 1));
  const list: TensorToWrite[] = [...tensors].map(([name, data]) => ({ name, dtype: 'F32', shape: shapes.get(name)!, data }));
  writeFileSync(join(dir, 'model.safetensors'), safetensorsBytes(list));
  return tensors;
}

export interface CohereReference {
  logits: Float64Array;
  masks?: Uint8Array;
  prunedLogits?: Float64Array;
}

/** Runs tools/cohere-reference/cohere_ref.py on the checkpoint in `dir`. */
export function runCohereReference(dir: string, job: { eval: number[][]; calib?: number[][]; sparsity?: number; nm?: [number, number] }): CohereReference {
  const out = join(dir, 'ref-out');
  const jobPath = join(dir, 'job.json');
  writeFileSync(jobPath, JSON.stringify(job));
  runPythonReference('Cohere', 'tools/cohere-reference/cohere_ref.py', [dir, jobPath, out]);
  const f64 = (name: string) => readF64(join(out, name));
  const res: CohereReference = { logits: f64('logits.f64') };
  if (job.calib) {
    res.masks = new Uint8Array(readFileSync(join(out, 'masks.u8')));
    res.prunedLogits = f64('pruned_logits.f64');
  }
  return res;
}
