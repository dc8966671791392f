import { describe, it, expect } from 'vitest';
import { llmCompressorExport, llmCompressorRecipe } from '../../src/export/recipe';
import { portableRecord, type PruningRecord } from '../../src/export/hf';

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
  it('no recipe where llm-compressor 0.13.0 cannot run the same pruning, with the reason pruning.json carries', () => {
    const owl: PruningRecord = { ...base, method: 'wanda', structure: 'unstructured', nm: null, sparsity_ratio: 0.5, sparsegpt: undefined, layer_sparsity: { profile: 'owl', m: 5, lambda: 0.08, outlier_ratio: [1, 2], target: [0.45, 0.55], achieved: [0.45, 0.55] } };
    expect(llmCompressorExport(owl)).toEqual({ recipe: null, status: { recipe: null, reason: expect.stringMatching(/Cannot invoke event before initializing.*Linear targets/) } });
    expect(llmCompressorExport({ ...base, method: 'wanda-lang' }).status).toEqual({ recipe: null, reason: expect.stringMatching(/language-aware/) });
    expect(llmCompressorExport({ ...base, method: 'magnitude' }).status).toEqual({ recipe: null, reason: expect.stringMatching(/no calibration/) });
    expect(llmCompressorExport(base).status).toEqual({ recipe: 'recipe.yaml', modifier: 'SparseGPTModifier' });
  });
  it('an absolute path from an older pruning.json becomes the folder name; portable sources stay', () => {
    for (const p of ['/home/ana/models/tiny-llama/', 'C:\\Users\\ana\\tiny-llama', '\\\\server\\share\\tiny-llama']) {
      const r = portableRecord({ ...base, model: { source: p, model_type: 'llama' } });
      expect(r.model).toEqual({ source: "local folder 'tiny-llama'", model_type: 'llama' });
      expect(llmCompressorRecipe(r)).not.toContain('ana');
    }
    for (const p of ['org/model@main (Hugging Face Hub)', 'https://example.org/m/', "dropped folder 'x'"]) expect(portableRecord({ ...base, model: { source: p } }).model.source).toBe(p);
  });
});
