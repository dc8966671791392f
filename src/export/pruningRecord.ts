/**
 * pruning.json (format 'polyprune-pruning/1'): its zod schema and the record type inferred from it,
 * one declaration for the writer (./hf.ts `pruningRecord`) and the reader (./provenance.ts).
 */
import { z } from 'zod';
import { PRUNE_METHODS } from '../prune/method';
import { generatedSourceSchema } from '../calib/genSource';

const calibrationFile = z.looseObject({
  name: z.string(),
  language: z.string().optional(),
  weight: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  paragraphs: z.number().int().nonnegative(),
  tokens: z.number().int().nonnegative(),
  samples: z.number().int().nonnegative(),
  seed: z.number(),
  offsets: z.array(z.number().int().nonnegative()),
  /** Text the model wrote itself: how it was written (docs/generate.md). */
  generated: generatedSourceSchema.optional(),
});

export const pruningSchema = z.looseObject({
  format: z.literal('polyprune-pruning/1'),
  tool: z.looseObject({ name: z.string(), version: z.string() }),
  model: z.looseObject({ source: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(), model_type: z.string().optional() }),
  method: z.enum(PRUNE_METHODS),
  structure: z.string(),
  sparsity_ratio: z.number().min(0).max(1),
  nm: z.object({ n: z.number().int().positive(), m: z.number().int().positive() }).nullable(),
  sparsegpt: z.object({ blocksize: z.number(), percdamp: z.number() }).optional(),
  overall_sparsity: z.number().min(0).max(1),
  calibration: z
    .looseObject({
      seed: z.number().nullable(),
      nsamples: z.number().int().nonnegative(),
      seqlen: z.number().int().nonnegative(),
      ids_sha256: z.string(),
      files: z.array(calibrationFile),
    })
    .nullable(),
  per_matrix: z.array(
    z.object({ tensor: z.string(), shape: z.tuple([z.number(), z.number()]), zeros: z.number(), numel: z.number(), sparsity: z.number() }),
  ),
  layer_sparsity: z
    .looseObject({
      profile: z.literal('owl'),
      m: z.number(),
      lambda: z.number(),
      outlier_ratio: z.array(z.number()),
      target: z.array(z.number().min(0).max(1)),
      achieved: z.array(z.number().min(0).max(1)),
    })
    .optional(),
  quantization: z
    .looseObject({ method: z.string(), bits: z.number().int(), group_size: z.number().int(), act_order: z.boolean(), static_groups: z.boolean(), sym: z.literal(false), weights: z.enum(['dequantized', 'gptq-v1', 'matmulnbits']), export_bytes: z.record(z.string(), z.number().int().nonnegative()).optional() })
    .optional(),
  language_aware: z.looseObject({ beta: z.number(), sources: z.array(z.looseObject({ name: z.string(), language: z.string().optional(), samples: z.number().int().nonnegative() })) }).optional(),
  llm_compressor: z.union([z.object({ recipe: z.literal('recipe.yaml'), modifier: z.string() }), z.object({ recipe: z.null(), reason: z.string() })]).optional(),
  created_at: z.string().optional(),
});

/**
 * What a pruned model's pruning.json holds. `layer_sparsity` is present when the sparsity differs
 * per layer (OWL): the profile, its M and lambda, the outlier ratio (%) of each decoder layer, the
 * sparsity each layer was pruned at (`target`, mean = sparsity_ratio) and the sparsity it reached
 * (`achieved`, zeros / weights of its seven linears); `language_aware` (wanda-lang) holds beta and
 * the calibration sources whose statistics were combined; `model.source` is portable (Hub id and
 * revision, URL, or `local folder '<name>'`, never an absolute path) and `model.sha256` the model's
 * content hash; `llm_compressor` says whether the export has a recipe.yaml, and why not when it has none; `calibration.ids_sha256` is the SHA-256
 * of the window ids as little-endian int32 (nsamples x seqlen).
 */
export type PruningRecord = z.infer<typeof pruningSchema>;
