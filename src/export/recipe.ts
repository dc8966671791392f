/**
 * The same experiment for llm-compressor (vllm-project/llm-compressor), for users who outgrow one
 * machine: `recipe.yaml` with one oneshot stage (WandaPruningModifier or SparseGPTModifier) and
 * `calibration.safetensors` with the exact calibration windows (`input_ids` I32 [n, seqlen]).
 *
 * Field names and meanings checked against llm-compressor's source
 * (modifiers/pruning/sparsegpt/base.py, sgpt_base.py SparsityModifierBase, wanda/base.py and
 * wanda_sparsify.py): `sparsity`, `mask_structure` ("N:M" where N is the number of weights ZEROED
 * in every M, "0:0" for unstructured), `targets` (default ["Linear"]), `ignore` ("re:.*lm_head"),
 * SparseGPT only: `block_size` (128) and `dampening_frac` (fraction of the mean Hessian diagonal,
 * 0.01 = sparsegpt's percdamp). PolyPrune's N:M keeps N of M, so 2:4 stays "2:4" and 1:4 (keep
 * one) becomes "3:4". The modifier comes from the method registry (src/prune/methods); a method without
 * one (magnitude, wanda-lang) gets no recipe, and a method the registry does not know is refused
 * (never written as another method's recipe).
 */
import { PolyPruneError } from '../common/errors';
import { PRUNE_METHODS, lookupMethod } from '../prune/method';
import type { PruningRecord } from './hf';

export const RECIPE_FILE = 'recipe.yaml';
export const CALIBRATION_FILE = 'calibration.safetensors';

/** recipe.yaml for `record`, or null for a method without an llm-compressor modifier (its `why` in the registry). */
export function llmCompressorRecipe(record: PruningRecord): string | null {
  const spec = lookupMethod(record.method);
  if (!spec) throw new PolyPruneError('BAD_ARGUMENT', `No llm-compressor recipe for pruning method '${String(record.method)}': PolyPrune knows ${PRUNE_METHODS.join(', ')}.`);
  const lc = spec.llmCompressor;
  if (lc.modifier === null) return null;
  const modifier = lc.modifier;
  const mask = record.nm ? `${record.nm.m - record.nm.n}:${record.nm.m}` : '0:0';
  const sparsity = record.nm ? (record.nm.m - record.nm.n) / record.nm.m : record.sparsity_ratio;
  const c = record.calibration;
  const lines = [
    `# llm-compressor recipe written by ${record.tool.name} ${record.tool.version} from pruning.json:`,
    `# ${record.method} ${record.structure} on ${record.model.source}.`,
    c ? `# Calibration: ${c.nsamples} windows of ${c.seqlen} tokens in ${CALIBRATION_FILE} (input_ids, SHA-256 of the ids ${c.ids_sha256}).` : '# Calibration: none recorded.',
    'pruning_stage:',
    '  sparsity_modifiers:',
    `    ${modifier}:`,
    `      sparsity: ${sparsity}`,
    `      mask_structure: "${mask}"`,
    '      targets: ["Linear"]',
    '      ignore: ["re:.*lm_head"]',
  ];
  if (record.layer_sparsity?.profile === 'owl') {
    lines.push('      sparsity_profile: "owl"', `      owl_m: ${record.layer_sparsity.m}`, `      owl_lmbda: ${record.layer_sparsity.lambda}`);
  }
  if (lc.solverFields) {
    lines.push(`      block_size: ${record.sparsegpt?.blocksize ?? spec.solver?.blocksize ?? 128}`, `      dampening_frac: ${record.sparsegpt?.percdamp ?? spec.solver?.percdamp ?? 0.01}`);
  }
  return lines.join('\n') + '\n';
}
