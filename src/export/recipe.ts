/**
 * The same experiment for llm-compressor (vllm-project/llm-compressor), for users who outgrow one
 * machine: `recipe.yaml` with one oneshot stage (WandaPruningModifier or SparseGPTModifier) and
 * `calibration.safetensors` with the exact calibration windows (`input_ids` I32 [n, seqlen]).
 *
 * Field names and meanings checked against llm-compressor 0.13.0's source
 * (modifiers/pruning/sparsegpt/base.py, sgpt_base.py SparsityModifierBase, wanda/base.py and
 * wanda_sparsify.py): `sparsity`, `mask_structure` ("N:M" where N is the number of weights ZEROED
 * in every M, "0:0" for unstructured), `targets` (default ["Linear"]), `ignore` ("re:.*lm_head"),
 * SparseGPT only: `block_size` (128) and `dampening_frac` (fraction of the mean Hessian diagonal,
 * 0.01 = sparsegpt's percdamp). PolyPrune's N:M keeps N of M, so 2:4 stays "2:4" and 1:4 (keep
 * one) becomes "3:4". The modifier comes from the method registry (src/prune/methods); a method the
 * registry does not know is refused (never written as another method's recipe).
 *
 * Where llm-compressor cannot run the same pruning there is no recipe, and pruning.json's
 * `llm_compressor.reason` says why (docs/export.md): a method without a modifier (its `why` in the
 * registry: magnitude, wanda-lang, RIA), and the OWL profile (0.13.0's `sparsity_profile: owl` starts
 * a calibration pass inside `on_initialize`, which oneshot refuses, and a per-layer sparsity list is
 * matched against the Linear targets, not the decoder layers; a per-layer recipe could not be run
 * here to prove it, so none is written).
 */
import { PolyPruneError } from '../common/errors';
import { PRUNE_METHODS, lookupMethod } from '../prune/method';
import type { PruningRecord } from './hf';

export const RECIPE_FILE = 'recipe.yaml';
export const CALIBRATION_FILE = 'calibration.safetensors';

/** pruning.json's `llm_compressor`: the recipe's file and modifier, or why there is none. */
export type LlmCompressorStatus = { recipe: typeof RECIPE_FILE; modifier: string } | { recipe: null; reason: string };

export const OWL_NO_RECIPE =
  "llm-compressor 0.13.0 cannot run this OWL profile: its sparsity_profile 'owl' starts a calibration pass inside on_initialize, which oneshot refuses ('Cannot invoke event before initializing'), and a per-layer sparsity list is matched against the Linear targets, not the decoder layers; layer_sparsity.target holds the sparsity of each decoder layer";

export const JOINT_NO_RECIPE =
  "SparseGPT's joint prune + quantize pass has no llm-compressor recipe: its SparseGPTModifier prunes only, and a GPTQModifier after it would quantize in a second pass, not the joint one PolyPrune ran";

/** recipe.yaml for `record` (null when there is none) and what pruning.json says about it. */
export function llmCompressorExport(record: PruningRecord): { recipe: string | null; status: LlmCompressorStatus } {
  const spec = lookupMethod(record.method);
  if (!spec) throw new PolyPruneError('BAD_ARGUMENT', `No llm-compressor recipe for pruning method '${String(record.method)}': PolyPrune knows ${PRUNE_METHODS.join(', ')}.`);
  const lc = spec.llmCompressor;
  if (lc.modifier === null) return { recipe: null, status: { recipe: null, reason: lc.why } };
  if (record.layer_sparsity) return { recipe: null, status: { recipe: null, reason: OWL_NO_RECIPE } };
  if (record.quantization) return { recipe: null, status: { recipe: null, reason: JOINT_NO_RECIPE } };
  const modifier = lc.modifier;
  const mask = record.nm ? `${record.nm.m - record.nm.n}:${record.nm.m}` : '0:0';
  const sparsity = record.nm ? (record.nm.m - record.nm.n) / record.nm.m : record.sparsity_ratio;
  const c = record.calibration;
  const lines = [
    `# llm-compressor recipe written by ${record.tool.name} ${record.tool.version} from pruning.json:`,
    `# ${record.method} ${record.structure} on ${record.model.source}${record.model.sha256 ? ` (content SHA-256 ${record.model.sha256})` : ''}.`,
    c ? `# Calibration: ${c.nsamples} windows of ${c.seqlen} tokens in ${CALIBRATION_FILE} (input_ids, SHA-256 of the ids ${c.ids_sha256}).` : '# Calibration: none recorded.',
    '# Run it with shuffle_calibration_samples=False (docs/export.md) so the windows are used in this order.',
    'pruning_stage:',
    '  sparsity_modifiers:',
    `    ${modifier}:`,
    `      sparsity: ${sparsity}`,
    `      mask_structure: "${mask}"`,
    '      targets: ["Linear"]',
    '      ignore: ["re:.*lm_head"]',
  ];
  if (lc.solverFields) {
    lines.push(`      block_size: ${record.sparsegpt?.blocksize ?? spec.solver?.blocksize ?? 128}`, `      dampening_frac: ${record.sparsegpt?.percdamp ?? spec.solver?.percdamp ?? 0.01}`);
  }
  return { recipe: lines.join('\n') + '\n', status: { recipe: RECIPE_FILE, modifier } };
}

/** recipe.yaml for `record`, or null where llm-compressor cannot run it (see llmCompressorExport). */
export function llmCompressorRecipe(record: PruningRecord): string | null {
  return llmCompressorExport(record).recipe;
}
