import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolyPruneError } from '../../src/common/errors';
import {
  ARCHITECTURES,
  expectedTensors,
  loadModelConfig,
  parameterCount,
  parseModelConfig,
  ropeInvFreq,
  validateCheckpoint,
  type ModelConfig,
} from '../../src/io/config';
import { dirFolder } from '../../src/io/node';
import { openCheckpoint, serializeSafetensors, type Checkpoint } from '../../src/io/safetensors';
import { sharedPath, STORIES_DIR_REL, tempDir } from '../helpers/shared';
import { thrown } from '../helpers/errors';

const STORIES = sharedPath(STORIES_DIR_REL);
const RAW = JSON.parse(readFileSync(join(STORIES, 'config.json'), 'utf8')) as Record<string, unknown>;

const with_ = (patch: Record<string, unknown>, drop: string[] = []): Record<string, unknown> => {
  const o: Record<string, unknown> = { ...RAW, ...patch };
  for (const k of drop) delete o[k];
  return o;
};

let ckpt: Checkpoint;
let tmp: { dir: string; remove: () => Promise<void> };
beforeAll(async () => {
  ckpt = await openCheckpoint(dirFolder(STORIES));
  tmp = await tempDir('polyprune-cfg-');
});
afterAll(async () => {
  await ckpt?.close();
  await tmp?.remove();
});

describe('parseModelConfig', () => {
  it('normalises the fixture config.json', () => {
    const c = parseModelConfig(RAW, 'config.json');
    expect(c).toMatchObject({
      modelType: 'llama',
      architecture: 'LlamaForCausalLM',
      hiddenSize: 64,
      intermediateSize: 172,
      numLayers: 5,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 8,
      vocabSize: 512,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      ropeScaling: null,
      tieWordEmbeddings: true,
      attentionBias: false,
      attentionOutBias: false,
      mlpBias: false,
      maxPositionEmbeddings: 512,
      slidingWindow: null,
      torchDtype: 'float32',
      bosTokenId: 1,
      eosTokenId: 2,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('defaults: Hkv = H, D = C/H, rope_theta 10000, untied', () => {
    const c = parseModelConfig(
      with_({}, ['num_key_value_heads', 'head_dim', 'rope_theta', 'tie_word_embeddings', 'attention_bias', 'mlp_bias']),
      'config.json',
    );
    expect(c.numKvHeads).toBe(8);
    expect(c.headDim).toBe(8);
    expect(c.ropeTheta).toBe(10000);
    expect(c.tieWordEmbeddings).toBe(false);
    expect(parseModelConfig(with_({ head_dim: 16 }), 'x').headDim).toBe(16);
    expect(parseModelConfig(with_({ eos_token_id: [128001, 128009] }), 'x').eosTokenIds).toEqual([128001, 128009]);
  });

  it('unsupported model_type lists the supported ones', () => {
    const e = thrown(() => parseModelConfig(with_({ model_type: 'gpt2' }), 'config.json in ./m'));
    expect(e.code).toBe('UNSUPPORTED_MODEL');
    expect(e.message).toBe("Unsupported model_type 'gpt2' in config.json in ./m. Supported: llama, mistral, qwen2, cohere.");
    expect([...ARCHITECTURES.keys()]).toEqual(['llama', 'mistral', 'qwen2', 'cohere']);
  });

  it('missing or invalid fields are CONFIG_INVALID naming the field', () => {
    const missing = thrown(() => parseModelConfig(with_({}, ['hidden_size']), 'config.json'));
    expect(missing.code).toBe('CONFIG_INVALID');
    expect(missing.message).toContain('"hidden_size"');
    expect(missing.message).toContain('missing');
    const wrongType = thrown(() => parseModelConfig(with_({ num_attention_heads: '8' }), 'config.json'));
    expect(wrongType.code).toBe('CONFIG_INVALID');
    expect(wrongType.message).toContain('"num_attention_heads"');
    expect(wrongType.message).toContain('"8"');
    const negative = thrown(() => parseModelConfig(with_({ vocab_size: -3 }), 'config.json'));
    expect(negative.message).toContain('"vocab_size"');
    const noType = thrown(() => parseModelConfig(with_({}, ['model_type']), 'config.json'));
    expect(noType.code).toBe('CONFIG_INVALID');
    expect(noType.message).toContain('model_type');
    const gqa = thrown(() => parseModelConfig(with_({ num_key_value_heads: 3 }), 'config.json'));
    expect(gqa.message).toContain('num_attention_heads (8) must be a multiple of num_key_value_heads (3)');
    expect(thrown(() => parseModelConfig([1], 'config.json')).code).toBe('CONFIG_INVALID');
  });

  it('rope scaling: llama3, linear; unknown types are UNSUPPORTED_MODEL', () => {
    const l3 = parseModelConfig(
      with_({
        rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
      }),
      'c',
    );
    expect(l3.ropeScaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(parseModelConfig(with_({ rope_scaling: { type: 'linear', factor: 2 } }), 'c').ropeScaling).toEqual({ type: 'linear', factor: 2 });
    expect(parseModelConfig(with_({ rope_scaling: { rope_type: 'default' } }), 'c').ropeScaling).toBeNull();
    const yarn = thrown(() => parseModelConfig(with_({ rope_scaling: { rope_type: 'yarn', factor: 4 } }), 'config.json'));
    expect(yarn.code).toBe('UNSUPPORTED_MODEL');
    expect(yarn.message).toContain('"yarn"');
    expect(yarn.message).toContain('Supported: default, linear, llama3');
    const bad = thrown(() => parseModelConfig(with_({ rope_scaling: { rope_type: 'llama3', factor: 8 } }), 'config.json'));
    expect(bad.code).toBe('CONFIG_INVALID');
    expect(bad.message).toContain('low_freq_factor');
    // transformers v5 layout
    const v5 = parseModelConfig(with_({ rope_parameters: { rope_type: 'default', rope_theta: 500000 } }, ['rope_theta']), 'c');
    expect(v5.ropeTheta).toBe(500000);
  });

  it('biases per model type', () => {
    const qwen = parseModelConfig(with_({ model_type: 'qwen2' }), 'c');
    expect([qwen.attentionBias, qwen.attentionOutBias, qwen.mlpBias]).toEqual([true, false, false]);
    const names = expectedTensors(qwen).map((t) => t.name);
    expect(names).toContain('model.layers.0.self_attn.q_proj.bias');
    expect(names).toContain('model.layers.4.self_attn.v_proj.bias');
    expect(names).not.toContain('model.layers.0.self_attn.o_proj.bias');
    expect(expectedTensors(qwen).find((t) => t.name === 'model.layers.0.self_attn.k_proj.bias')?.shape).toEqual([32]);
    const llamaBias = parseModelConfig(with_({ attention_bias: true }), 'c');
    expect(expectedTensors(llamaBias).map((t) => t.name)).toContain('model.layers.0.self_attn.o_proj.bias');
    const mistral = parseModelConfig(with_({ model_type: 'mistral', sliding_window: 4096 }), 'c');
    expect([mistral.attentionBias, mistral.slidingWindow]).toEqual([false, 4096]);
    const gelu = thrown(() => parseModelConfig(with_({ hidden_act: 'gelu' }), 'c'));
    expect(gelu.code).toBe('UNSUPPORTED_MODEL');
  });
});

describe('ropeInvFreq', () => {
  it('fixture: theta^(-2i/D) for D = 8', () => {
    const c = parseModelConfig(RAW, 'c');
    expect(Array.from(ropeInvFreq(c))).toEqual([1, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513]);
  });

  it('llama3 scaling matches values computed independently (numpy, float64 -> float32)', () => {
    const c = parseModelConfig(
      with_({
        hidden_size: 4096,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        head_dim: 128,
        rope_theta: 500000,
        rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
      }),
      'c',
    );
    const f = ropeInvFreq(c);
    expect(f).toHaveLength(64);
    // [index, value]: 0-28 unscaled, 29-34 smoothed, 35-63 divided by factor.
    const expected: [number, number][] = [
      [0, 1.0],
      [1, 0.8146172165870667],
      [20, 0.016560440883040428],
      [28, 0.0032114461064338684],
      [29, 0.0021665708627551794],
      [31, 0.0008567514014430344],
      [34, 0.00017850780568551272],
      [35, 9.556212171446532e-5],
      [50, 4.411534519022098e-6],
      [63, 3.068925877869333e-7],
    ];
    for (const [i, v] of expected) expect(f[i], `index ${i}`).toBe(v);
  });

  it('linear scaling divides by the factor', () => {
    const base = ropeInvFreq(parseModelConfig(RAW, 'c'));
    const lin = ropeInvFreq(parseModelConfig(with_({ rope_scaling: { type: 'linear', factor: 4 } }), 'c'));
    for (let i = 0; i < 4; i++) expect(lin[i]).toBe(Math.fround(1 / 10000 ** ((2 * i) / 8) / 4));
    expect(lin[0]).toBe(base[0] / 4);
  });
});

describe('expectedTensors, parameterCount, validateCheckpoint', () => {
  it('the fixture checkpoint has exactly the expected tensors and shapes', () => {
    const c = parseModelConfig(RAW, 'c');
    const exp = expectedTensors(c);
    expect(exp).toHaveLength(47);
    expect(exp.map((t) => t.name).sort()).toEqual(ckpt.names().sort());
    for (const t of exp) expect(ckpt.info(t.name).shape, t.name).toEqual(t.shape);
    expect(() => validateCheckpoint(c, ckpt)).not.toThrow();
  });

  it('parameterCount equals the element count of the file', () => {
    const c = parseModelConfig(RAW, 'c');
    const inFile = ckpt.names().reduce((s, n) => s + ckpt.info(n).byteLength / 4, 0);
    expect(parameterCount(c)).toBe(inFile);
    expect(parameterCount(c)).toBe(260032);
    expect(parameterCount(parseModelConfig(with_({ tie_word_embeddings: false }), 'c'))).toBe(260032 + 512 * 64);
  });

  it('shapes disagreeing with config.json are CHECKPOINT_MISMATCH with file and expected shapes', () => {
    const c = parseModelConfig(with_({ intermediate_size: 128 }), 'c');
    const e = thrown(() => validateCheckpoint(c, ckpt));
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toContain(
      "tensor 'model.layers.0.mlp.gate_proj.weight': shape in file [172, 64], shape expected from config.json [128, 64]",
    );
    expect(e.message).toContain('15 problem(s)');
    expect(e.message).toContain('... and 9 more');
    expect(e.message).toContain('different models');
  });

  it('missing lm_head when config.json says untied', () => {
    const c = parseModelConfig(with_({ tie_word_embeddings: false }), 'c');
    const e = thrown(() => validateCheckpoint(c, ckpt));
    expect(e.code).toBe('CHECKPOINT_MISMATCH');
    expect(e.message).toContain("missing tensor 'lm_head.weight'");
    expect(e.message).toContain('"tie_word_embeddings": true');
  });

  it('a crafted file with a transposed matrix and a config.json read from disk', async () => {
    const dir = join(tmp.dir, 'transposed');
    await mkdir(dir);
    const tensors = [];
    for (const n of ckpt.names()) {
      const info = ckpt.info(n);
      const shape = n === 'model.layers.2.mlp.down_proj.weight' ? [172, 64] : info.shape;
      tensors.push({ name: n, dtype: info.dtype, shape, data: await ckpt.readRaw(n) });
    }
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
    await writeFile(join(dir, 'config.json'), JSON.stringify(RAW));
    const folder = dirFolder(dir);
    const cfg: ModelConfig = await loadModelConfig(folder);
    const ck = await openCheckpoint(folder);
    try {
      const e = thrown(() => validateCheckpoint(cfg, ck));
      expect(e.message).toContain(
        "tensor 'model.layers.2.mlp.down_proj.weight': shape in file [172, 64], shape expected from config.json [64, 172]",
      );
      expect(e.message).toContain('transposed');
      expect(e.message).toContain('1 problem(s)');
    } finally {
      await ck.close();
    }
  });

  it('quantized dtypes are refused', async () => {
    const dir = join(tmp.dir, 'int8');
    await mkdir(dir);
    const tensors = [];
    for (const n of ckpt.names()) {
      const info = ckpt.info(n);
      const int8 = n === 'model.layers.0.self_attn.q_proj.weight';
      const data = int8 ? new Int8Array(64 * 64) : await ckpt.readRaw(n);
      tensors.push({ name: n, dtype: int8 ? ('I8' as const) : info.dtype, shape: info.shape, data });
    }
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tensors));
    const ck = await openCheckpoint(dirFolder(dir));
    try {
      const e = thrown(() => validateCheckpoint(parseModelConfig(RAW, 'c'), ck));
      expect(e.message).toContain("tensor 'model.layers.0.self_attn.q_proj.weight': dtype I8, expected F32, F16 or BF16");
    } finally {
      await ck.close();
    }
  });

  it('config.json that is not JSON', async () => {
    const dir = join(tmp.dir, 'badcfg');
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), '{"model_type": "llama",');
    const e = await loadModelConfig(dirFolder(dir)).then(
      () => null,
      (err: unknown) => err as PolyPruneError,
    );
    expect(e?.code).toBe('CONFIG_INVALID');
    expect(e?.message).toContain(`config.json in ${dir}: not valid JSON`);
  });
});
