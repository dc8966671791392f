/**
 * config.json of Llama-family models (llama, mistral, qwen2) and Cohere (Aya-23), parsed once into a readonly normalised config; the expected
 * tensor names and shapes of the HF `*ForCausalLM` layout; checkpoint validation against them.
 *
 * Shape letters: C hidden, F ffn, L layers, H heads, Hkv kv heads, D head dim, V vocab.
 */
import { z } from 'zod';
import { PolyPruneError } from '../common/errors';
import { numel } from './dtypes';
import { closestNames, type Checkpoint } from './safetensors';
import type { ModelFolder } from './source';

export type RopeScaling =
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositionEmbeddings: number;
    }
  | { readonly type: 'linear'; readonly factor: number };

export interface ModelConfig {
  readonly modelType: string;
  /** `architectures[0]`, e.g. 'LlamaForCausalLM'; null when absent. */
  readonly architecture: string | null;
  readonly hiddenSize: number; // C
  readonly intermediateSize: number; // F
  readonly numLayers: number; // L
  readonly numHeads: number; // H
  readonly numKvHeads: number; // Hkv
  readonly headDim: number; // D
  readonly vocabSize: number; // V
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling: RopeScaling | null;
  readonly tieWordEmbeddings: boolean;
  /** q/k/v projections have biases (qwen2; llama with attention_bias). */
  readonly attentionBias: boolean;
  /** o_proj has a bias (llama with attention_bias; not qwen2). */
  readonly attentionOutBias: boolean;
  readonly mlpBias: boolean;
  readonly maxPositionEmbeddings: number;
  /** Sliding attention window (mistral, qwen2 when enabled); null = full causal attention. */
  readonly slidingWindow: number | null;
  /** `torch_dtype` (or transformers v5 `dtype`), e.g. 'bfloat16'; null when absent. */
  readonly torchDtype: string | null;
  readonly bosTokenId: number | null;
  /** The first EOS id (configs may list several). */
  readonly eosTokenId: number | null;
  readonly eosTokenIds: readonly number[];
  /** 'rms': RMSNorm (Llama); 'layer': mean-centred LayerNorm with weight only (Cohere). Eps is rmsNormEps. */
  readonly normType: 'rms' | 'layer';
  /** One input norm feeding attention and MLP in parallel: x + attn(ln(x)) + mlp(ln(x)) (Cohere). */
  readonly parallelBlock: boolean;
  /** Logits are multiplied by this (Cohere `logit_scale`; 1 elsewhere). */
  readonly logitScale: number;
  /** RoPE rotates adjacent pairs (2i, 2i+1) instead of halves (i, i + D/2) (Cohere). */
  readonly ropeInterleaved: boolean;
  /** Per-head LayerNorm of q and k before RoPE, weights (H, D) and (Hkv, D) (Cohere use_qk_norm). */
  readonly qkNorm: boolean;
}

/** What differs between model types that share the Llama decoder block. */
export interface ArchitectureSpec {
  readonly modelType: string;
  readonly qkvBias: (raw: RawConfig) => boolean;
  readonly outBias: (raw: RawConfig) => boolean;
  readonly mlpBias: (raw: RawConfig) => boolean;
  /** transformers' default `max_position_embeddings` for this type. */
  readonly defaultMaxPositions: number;
  /** Whether `sliding_window` applies (qwen2 only with use_sliding_window). */
  readonly slidingWindow: (raw: RawConfig) => number | null;
  /** The Cohere block (LayerNorm, parallel attention + MLP, logit_scale, interleaved RoPE, q/k norm). */
  readonly cohere?: boolean;
  /** transformers' default of `tie_word_embeddings` for this type (false unless given). */
  readonly defaultTied?: boolean;
}

const posInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();
/**
 * Sane bounds, checked before anything is allocated from them (a num_hidden_layers of 1e9 must not
 * reach a loop): far above any published model (Llama 3.1 405B: 126 layers, hidden 16384, ffn
 * 53248, 128 heads; the largest vocabularies hold about 260k tokens).
 */
const bounded = (max: number) => posInt.max(max, `must be at most ${max} (larger is not a real model)`);

const rawConfigSchema = z.looseObject({
  model_type: z.string(),
  architectures: z.array(z.string()).nullish(),
  hidden_size: bounded(65536),
  intermediate_size: bounded(1048576),
  num_hidden_layers: bounded(4096),
  num_attention_heads: bounded(4096),
  num_key_value_heads: bounded(4096).nullish(),
  head_dim: bounded(65536).nullish(),
  vocab_size: bounded(16777216),
  rms_norm_eps: z.number().positive().optional(),
  rope_theta: z.number().positive().optional(),
  rope_scaling: z.record(z.string(), z.unknown()).nullish(),
  rope_parameters: z.record(z.string(), z.unknown()).nullish(),
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
  max_position_embeddings: bounded(2 ** 24).optional(),
  sliding_window: posInt.nullish(),
  use_sliding_window: z.boolean().optional(),
  hidden_act: z.string().optional(),
  torch_dtype: z.string().nullish(),
  dtype: z.string().nullish(),
  bos_token_id: tokenId.nullish(),
  eos_token_id: z.union([tokenId, z.array(tokenId)]).nullish(),
  layer_norm_eps: z.number().positive().optional(),
  logit_scale: z.number().refine(Number.isFinite, 'must be a finite number').optional(),
  use_qk_norm: z.boolean().optional(),
});

export type RawConfig = z.infer<typeof rawConfigSchema>;

/** Model types with the Llama decoder block (RMSNorm, RoPE, GQA attention, SwiGLU MLP). */
export const ARCHITECTURES: ReadonlyMap<string, ArchitectureSpec> = new Map<string, ArchitectureSpec>([
  [
    'llama',
    {
      modelType: 'llama',
      qkvBias: (r) => r.attention_bias ?? false,
      outBias: (r) => r.attention_bias ?? false,
      mlpBias: (r) => r.mlp_bias ?? false,
      defaultMaxPositions: 2048,
      slidingWindow: () => null,
    },
  ],
  [
    'mistral',
    {
      modelType: 'mistral',
      qkvBias: () => false,
      outBias: () => false,
      mlpBias: () => false,
      defaultMaxPositions: 4096 * 32,
      slidingWindow: (r) => r.sliding_window ?? null,
    },
  ],
  [
    'qwen2',
    {
      modelType: 'qwen2',
      qkvBias: () => true,
      outBias: () => false,
      mlpBias: () => false,
      defaultMaxPositions: 32768,
      slidingWindow: (r) => (r.use_sliding_window ? (r.sliding_window ?? null) : null),
    },
  ],
  [
    // CohereForCausalLM (Command-R, Aya-23): transformers models/cohere/configuration_cohere.py defaults.
    'cohere',
    {
      modelType: 'cohere',
      qkvBias: (r) => r.attention_bias ?? false,
      outBias: (r) => r.attention_bias ?? false,
      mlpBias: () => false,
      defaultMaxPositions: 8192,
      slidingWindow: () => null,
      cohere: true,
      defaultTied: true,
    },
  ],
]);

function supportedList(): string {
  return [...ARCHITECTURES.keys()].join(', ');
}

function configError(source: string, message: string): PolyPruneError {
  return new PolyPruneError('CONFIG_INVALID', `${source}: ${message}`);
}

function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let v = json;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function show(v: unknown): string {
  const s = v === undefined ? 'nothing' : (JSON.stringify(v) ?? String(v));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function num(source: string, obj: Record<string, unknown>, key: string, where: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw configError(source, `${where}.${key} must be a positive number, got ${show(v)}.`);
  }
  return v;
}

function parseRopeScaling(
  source: string,
  scaling: Record<string, unknown> | null | undefined,
  where: string,
): RopeScaling | null {
  if (!scaling) return null;
  const type = scaling.rope_type ?? scaling.type;
  if (type === undefined || type === null) {
    throw configError(source, `${where} has no "rope_type" (or "type").`);
  }
  if (type === 'default') return null;
  if (type === 'linear') return { type: 'linear', factor: num(source, scaling, 'factor', where) };
  if (type === 'llama3') {
    const lowFreqFactor = num(source, scaling, 'low_freq_factor', where);
    const highFreqFactor = num(source, scaling, 'high_freq_factor', where);
    if (!(highFreqFactor > lowFreqFactor)) {
      throw configError(
        source,
        `${where}: high_freq_factor (${highFreqFactor}) must be larger than low_freq_factor (${lowFreqFactor}).`,
      );
    }
    return {
      type: 'llama3',
      factor: num(source, scaling, 'factor', where),
      lowFreqFactor,
      highFreqFactor,
      originalMaxPositionEmbeddings: num(source, scaling, 'original_max_position_embeddings', where),
    };
  }
  throw new PolyPruneError(
    'UNSUPPORTED_MODEL',
    `${source}: unsupported RoPE scaling type ${show(type)} in ${where}. Supported: default, linear, llama3.`,
  );
}

/**
 * Parses a config.json object. `source` names the file in messages (e.g. "config.json in ./model").
 * Unknown model_type -> UNSUPPORTED_MODEL listing the supported ones; missing or invalid fields ->
 * CONFIG_INVALID naming the field.
 */
export function parseModelConfig(json: unknown, source: string): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw configError(source, `expected a JSON object, got ${show(json)}.`);
  }
  const modelType = (json as Record<string, unknown>).model_type;
  if (typeof modelType !== 'string') {
    throw configError(source, `field "model_type" must be a string, got ${show(modelType)}.`);
  }
  const arch = ARCHITECTURES.get(modelType);
  if (!arch) {
    throw new PolyPruneError(
      'UNSUPPORTED_MODEL',
      `Unsupported model_type '${modelType}' in ${source}. Supported: ${supportedList()}.`,
    );
  }
  const qc = (json as Record<string, unknown>).quantization_config;
  if (typeof qc === 'object' && qc !== null && !Array.isArray(qc)) {
    // A checkpoint quantized by another tool (GPTQ, AWQ, bitsandbytes, PolyPrune's hf-gptq export): its
    // linears are integer codes, not the float weights PolyPrune prunes, quantizes and evaluates.
    const q = qc as Record<string, unknown>;
    const what = [q.quant_method, typeof q.bits === 'number' ? `${q.bits}-bit` : null].filter((x) => typeof x === 'string').join(' ') || 'quantized';
    throw new PolyPruneError('UNSUPPORTED_MODEL', `${source} is already quantized (quantization_config: ${what}); PolyPrune reads float checkpoints (F32, F16, BF16): load the original, unquantized model instead.`);
  }
  const parsed = rawConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 4).map((i) => {
      const field = i.path.map(String).join('.');
      const got = valueAt(json, i.path);
      if (got === undefined) return `required field "${field}" is missing`;
      const why = i.message.replace(/^Invalid input: /, '').replace(/^./, (c) => c.toLowerCase());
      return `field "${field}" is invalid: ${why} (got ${show(got)})`;
    });
    throw configError(source, `${issues.join('; ')}. Use the config.json published with the model weights.`);
  }
  const r = parsed.data;
  if (r.hidden_act !== undefined && r.hidden_act !== 'silu') {
    throw new PolyPruneError(
      'UNSUPPORTED_MODEL',
      `${source}: hidden_act '${r.hidden_act}' is not supported for ${modelType}; only 'silu' (SwiGLU MLP) is.`,
    );
  }
  const numHeads = r.num_attention_heads;
  const numKvHeads = r.num_key_value_heads ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw configError(
      source,
      `num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads}).`,
    );
  }
  if (r.head_dim == null && r.hidden_size % numHeads !== 0) {
    throw configError(
      source,
      `hidden_size (${r.hidden_size}) is not divisible by num_attention_heads (${numHeads}) and there is no head_dim.`,
    );
  }
  const headDim = r.head_dim ?? r.hidden_size / numHeads;
  if (headDim % 2 !== 0) throw configError(source, `head_dim (${headDim}) must be even for RoPE.`);

  // transformers v5 moves rope_theta and the scaling into rope_parameters.
  let ropeTheta = r.rope_theta ?? 10000;
  let ropeScaling = parseRopeScaling(source, r.rope_scaling, 'rope_scaling');
  if (r.rope_parameters) {
    const p = r.rope_parameters;
    if (p.rope_theta !== undefined) ropeTheta = num(source, p, 'rope_theta', 'rope_parameters');
    ropeScaling = parseRopeScaling(source, p, 'rope_parameters');
  }
  const eos = r.eos_token_id == null ? [] : Array.isArray(r.eos_token_id) ? r.eos_token_id : [r.eos_token_id];

  return Object.freeze({
    modelType,
    architecture: r.architectures?.[0] ?? null,
    hiddenSize: r.hidden_size,
    intermediateSize: r.intermediate_size,
    numLayers: r.num_hidden_layers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: r.vocab_size,
    rmsNormEps: arch.cohere ? (r.layer_norm_eps ?? 1e-5) : (r.rms_norm_eps ?? 1e-6),
    ropeTheta,
    ropeScaling: ropeScaling ? Object.freeze(ropeScaling) : null,
    tieWordEmbeddings: r.tie_word_embeddings ?? arch.defaultTied ?? false,
    attentionBias: arch.qkvBias(r),
    attentionOutBias: arch.outBias(r),
    mlpBias: arch.mlpBias(r),
    maxPositionEmbeddings: r.max_position_embeddings ?? arch.defaultMaxPositions,
    slidingWindow: arch.slidingWindow(r),
    torchDtype: r.torch_dtype ?? r.dtype ?? null,
    bosTokenId: r.bos_token_id ?? null,
    eosTokenId: eos[0] ?? null,
    eosTokenIds: Object.freeze([...eos]),
    normType: arch.cohere ? 'layer' : 'rms',
    parallelBlock: arch.cohere ?? false,
    logitScale: arch.cohere ? (r.logit_scale ?? 0.0625) : 1,
    ropeInterleaved: arch.cohere ?? false,
    qkNorm: arch.cohere ? (r.use_qk_norm ?? false) : false,
  });
}

/** Reads and parses `config.json` of a model folder. */
export async function loadModelConfig(folder: ModelFolder, name = 'config.json'): Promise<ModelConfig> {
  const source = `${name} in ${folder.location}`;
  const text = await folder.readText(name);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw configError(source, `not valid JSON: ${(e as Error).message}.`);
  }
  return parseModelConfig(json, source);
}

/**
 * RoPE inverse frequencies, length D/2: theta^(-2i/D), with linear or llama3 scaling applied as in
 * transformers' `_compute_linear_scaling_rope_parameters` / `_compute_llama3_parameters`. Computed in
 * float64 and rounded once to float32 (transformers computes in float32, so values may differ from
 * its buffer by 1 ulp).
 */
export function ropeInvFreq(cfg: ModelConfig): Float32Array {
  const d = cfg.headDim;
  const half = d / 2;
  const out = new Float32Array(half);
  const s = cfg.ropeScaling;
  for (let i = 0; i < half; i++) {
    let f = 1 / cfg.ropeTheta ** ((2 * i) / d);
    if (s?.type === 'linear') {
      f /= s.factor;
    } else if (s?.type === 'llama3') {
      const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
      const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowFreqWavelen) {
        f /= s.factor;
      } else if (!(wavelen < highFreqWavelen)) {
        const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        f = ((1 - smooth) * f) / s.factor + smooth * f;
      }
    }
    out[i] = f;
  }
  return out;
}

export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** The tensors of the HF `*ForCausalLM` layout this config implies, in module order. */
export function expectedTensors(cfg: ModelConfig): ExpectedTensor[] {
  const { hiddenSize: C, intermediateSize: F, numHeads: H, numKvHeads: Hkv, headDim: D, vocabSize: V } = cfg;
  const out: ExpectedTensor[] = [{ name: 'model.embed_tokens.weight', shape: [V, C] }];
  const linear = (name: string, outF: number, inF: number, bias: boolean): void => {
    out.push({ name: `${name}.weight`, shape: [outF, inF] });
    if (bias) out.push({ name: `${name}.bias`, shape: [outF] });
  };
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}`;
    out.push({ name: `${p}.input_layernorm.weight`, shape: [C] });
    linear(`${p}.self_attn.q_proj`, H * D, C, cfg.attentionBias);
    linear(`${p}.self_attn.k_proj`, Hkv * D, C, cfg.attentionBias);
    linear(`${p}.self_attn.v_proj`, Hkv * D, C, cfg.attentionBias);
    linear(`${p}.self_attn.o_proj`, C, H * D, cfg.attentionOutBias);
    if (cfg.qkNorm) {
      out.push({ name: `${p}.self_attn.q_norm.weight`, shape: [H, D] });
      out.push({ name: `${p}.self_attn.k_norm.weight`, shape: [Hkv, D] });
    }
    if (!cfg.parallelBlock) out.push({ name: `${p}.post_attention_layernorm.weight`, shape: [C] });
    linear(`${p}.mlp.gate_proj`, F, C, cfg.mlpBias);
    linear(`${p}.mlp.up_proj`, F, C, cfg.mlpBias);
    linear(`${p}.mlp.down_proj`, C, F, cfg.mlpBias);
  }
  out.push({ name: 'model.norm.weight', shape: [C] });
  if (!cfg.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [V, C] });
  return out;
}

/** Number of parameters (tied embeddings counted once). */
export function parameterCount(cfg: ModelConfig): number {
  return expectedTensors(cfg).reduce((s, t) => s + numel(t.shape), 0);
}

const WEIGHT_DTYPES = new Set(['F32', 'F16', 'BF16']);

function fmtShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * Checks that a checkpoint has every tensor config.json implies, with that shape and a float dtype
 * (F32/F16/BF16). Extra tensors are ignored. Problems -> one CHECKPOINT_MISMATCH listing them.
 */
export function validateCheckpoint(
  cfg: ModelConfig,
  ckpt: Pick<Checkpoint, 'location' | 'names' | 'has' | 'info'>,
): void {
  // the layer count first, from the names alone: a config.json with far more layers than the
  // checkpoint must not build (and compare) millions of expected tensors
  let layers = 0;
  for (const n of ckpt.names()) {
    const m = /^model\.layers\.(\d+)\./.exec(n);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  if (cfg.numLayers > layers) {
    throw new PolyPruneError(
      'CHECKPOINT_MISMATCH',
      `config.json says num_hidden_layers ${cfg.numLayers}, but the checkpoint in ${ckpt.location} holds ${layers === 0 ? 'no decoder layers' : `layers 0..${layers - 1} (${layers})`}. Use the config.json published with these weights.`,
    );
  }
  const problems: string[] = [];
  const hints = new Set<string>();
  for (const t of expectedTensors(cfg)) {
    if (!ckpt.has(t.name)) {
      const close = closestNames(t.name, ckpt.names(), 2);
      problems.push(
        `missing tensor '${t.name}'${close.length ? ` (closest: ${close.map((c) => `'${c}'`).join(', ')})` : ''}`,
      );
      if (t.name === 'lm_head.weight') {
        hints.add('If the model ties its output head to the embeddings, config.json needs "tie_word_embeddings": true.');
      }
      continue;
    }
    const info = ckpt.info(t.name);
    const same = info.shape.length === t.shape.length && info.shape.every((d, i) => d === t.shape[i]);
    if (!same) {
      problems.push(
        `tensor '${t.name}': shape in file ${fmtShape(info.shape)}, shape expected from config.json ${fmtShape(t.shape)}`,
      );
      if (t.shape.length === 2 && info.shape.length === 2 && info.shape[0] === t.shape[1] && info.shape[1] === t.shape[0]) {
        hints.add('A transposed shape means the weights are stored [in, out]; HF Linear weights are [out, in].');
      } else {
        hints.add('config.json and the weights seem to come from different models; use the config.json published with these weights.');
      }
    } else if (!WEIGHT_DTYPES.has(info.dtype)) {
      problems.push(`tensor '${t.name}': dtype ${info.dtype}, expected F32, F16 or BF16`);
      hints.add(
        info.dtype === 'F64'
          ? 'F64 weights are not supported; convert them to F32 (e.g. model.float() in PyTorch) and save again.'
          : info.dtype.startsWith('F8')
            ? `${info.dtype} (FP8) weights cannot be kept on the GPU as they are: PolyPrune keeps F32, or BF16/F16 packed two per word. Use the model's BF16 or F16 release.`
            : 'Quantized or integer checkpoints are not supported (8-bit weights cannot be kept packed as 16-bit); use the original F32/F16/BF16 weights.',
      );
    }
  }
  if (problems.length === 0) return;
  const shown = problems.slice(0, 6).map((p) => `  - ${p}`);
  if (problems.length > shown.length) shown.push(`  - ... and ${problems.length - shown.length} more`);
  throw new PolyPruneError(
    'CHECKPOINT_MISMATCH',
    `The weights in ${ckpt.location} do not match config.json (${cfg.modelType}, ${cfg.numLayers} layers, hidden ${cfg.hiddenSize}, ffn ${cfg.intermediateSize}, heads ${cfg.numHeads}/${cfg.numKvHeads}, head_dim ${cfg.headDim}, vocab ${cfg.vocabSize}): ${problems.length} problem(s):\n${shown.join('\n')}\n${[...hints].join(' ')}`,
  );
}

/** Tensors some exporters add that the forward pass never needs (not worth a warning). */
const HARMLESS_EXTRA = /(^|\.)rotary_emb\.inv_freq$|^lm_head\.weight$/;

/**
 * Things about a checkpoint that do not stop a run but that the user should see: tensors of decoder
 * layers beyond config.json's num_hidden_layers (unused: config.json may be cut short) and other
 * unknown tensors. One line each.
 */
export function checkpointWarnings(cfg: ModelConfig, ckpt: Pick<Checkpoint, 'location' | 'names'>): string[] {
  const expected = new Set(expectedTensors(cfg).map((t) => t.name));
  const extraLayers = new Set<number>();
  const unknown: string[] = [];
  for (const n of ckpt.names()) {
    if (expected.has(n) || HARMLESS_EXTRA.test(n)) continue;
    const m = /^model\.layers\.(\d+)\./.exec(n);
    if (m && Number(m[1]) >= cfg.numLayers) extraLayers.add(Number(m[1]));
    else unknown.push(n);
  }
  const out: string[] = [];
  if (extraLayers.size) {
    const ls = [...extraLayers].sort((a, b) => a - b);
    out.push(
      `config.json says num_hidden_layers ${cfg.numLayers}, but the checkpoint also holds layer${ls.length > 1 ? 's' : ''} ${ls.length > 4 ? `${ls[0]}..${ls[ls.length - 1]}` : ls.join(', ')}; ${ls.length > 1 ? 'they are' : 'it is'} not used. Check that config.json belongs to these weights.`,
    );
  }
  if (unknown.length) {
    out.push(
      `The checkpoint holds ${unknown.length} tensor${unknown.length > 1 ? 's' : ''} this ${cfg.modelType} model does not use (${unknown.slice(0, 3).map((x) => `'${x}'`).join(', ')}${unknown.length > 3 ? ', ...' : ''}); ${unknown.length > 1 ? 'they are' : 'it is'} ignored.`,
    );
  }
  return out;
}
