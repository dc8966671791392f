import { describe, it, expect } from 'vitest';
import { llmCompressorRecipe } from '../../src/export/recipe';
import type { PruningRecord } from '../../src/export/hf';

const base: PruningRecord = {
  format: 'polyprune-pruning/1',
  tool: { name: 'polyprune', version: '0.1.0' },
  model: { source: 'org/model', model_type: 'llama' },
  method: 'sparsegpt',
  structure: '1:4',
  sparsity_ratio: 0.75,
  nm: { n: 1, m: 4 },
  sparsegpt: { blocksize: 128, percdamp: 0.01 },
  overall_sparsity: 0.75,
  calibration: { seed: 0, nsamples: 128, seqlen: 2048, ids_sha256: 'ab'.repeat(32), files: [] },
  per_matrix: [],
};

describe('llm-compressor recipe', () => {
  it('SparseGPT 1:4 (keep 1 of 4) becomes mask_structure "3:4" (llm-compressor zeroes N of M), with block_size and dampening_frac', () => {
    const r = llmCompressorRecipe(base)!;
    expect(r).toContain('pruning_stage:\n  sparsity_modifiers:\n    SparseGPTModifier:\n      sparsity: 0.75\n      mask_structure: "3:4"\n      targets: ["Linear"]\n      ignore: ["re:.*lm_head"]\n      block_size: 128\n      dampening_frac: 0.01\n');
    expect(r).toContain('128 windows of 2048 tokens in calibration.safetensors');
  });
  it('Wanda unstructured is "0:0" without SparseGPT fields; magnitude has no recipe', () => {
    const w = llmCompressorRecipe({ ...base, method: 'wanda', structure: 'unstructured', nm: null, sparsity_ratio: 0.6, sparsegpt: undefined })!;
    expect(w).toContain('    WandaPruningModifier:\n      sparsity: 0.6\n      mask_structure: "0:0"\n');
    expect(w).not.toContain('block_size');
    expect(llmCompressorRecipe({ ...base, method: 'magnitude', calibration: null })).toBeNull();
  });
});
