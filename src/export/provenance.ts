/**
 * Reading pruning.json back: a folder, dropped files, a zip's contents or a URL that PolyPrune wrote
 * is recognised as a pruned model. The file is validated with zod (format 'polyprune-pruning/1');
 * a malformed one is reported, never guessed at.
 */
import { z } from 'zod';
import { PolyPruneError } from '../common/errors';
import type { ModelFolder } from '../io/source';
import type { PruningRecord } from './hf';
import { PRUNE_METHODS } from '../prune/method';

export const PRUNING_FILE = 'pruning.json';

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
});

const pruningSchema = z.looseObject({
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
  language_aware: z.looseObject({ beta: z.number(), sources: z.array(z.looseObject({ name: z.string(), language: z.string().optional(), samples: z.number().int().nonnegative() })) }).optional(),
  llm_compressor: z.union([z.object({ recipe: z.literal('recipe.yaml'), modifier: z.string() }), z.object({ recipe: z.null(), reason: z.string() })]).optional(),
  created_at: z.string().optional(),
});

/** What the page and `polyprune info` show about a pruned model. */
export interface PruningSummary {
  method: string;
  structure: string;
  sparsityRatio: number;
  overallSparsity: number;
  /** Calibration text files (name and language when known); empty for magnitude or explicit windows. */
  calibrationSources: { name: string; language?: string }[];
  nsamples: number | null;
  seqlen: number | null;
  seed: number | null;
  /** Where the unpruned model came from (Hub id, URL or `local folder '<name>'`; older exports: a path). */
  baseModel: string;
  tool: string;
  /** OWL: M, lambda and the sparsity each decoder layer was pruned at; absent for a uniform profile. */
  layerSparsity?: { profile: 'owl'; m: number; lambda: number; target: number[] };
  /** wanda-lang: beta of the per-source spread. */
  langBeta?: number;
}

export function summarizePruning(rec: PruningRecord): PruningSummary {
  return {
    method: rec.method,
    structure: rec.structure,
    sparsityRatio: rec.sparsity_ratio,
    overallSparsity: rec.overall_sparsity,
    calibrationSources: (rec.calibration?.files ?? []).map((f) => ({ name: f.name, ...(f.language ? { language: f.language } : {}) })),
    nsamples: rec.calibration?.nsamples ?? null,
    seqlen: rec.calibration?.seqlen ?? null,
    seed: rec.calibration?.seed ?? null,
    baseModel: rec.model.source,
    tool: `${rec.tool.name} ${rec.tool.version}`,
    ...(rec.layer_sparsity ? { layerSparsity: { profile: 'owl' as const, m: rec.layer_sparsity.m, lambda: rec.layer_sparsity.lambda, target: [...rec.layer_sparsity.target] } } : {}),
    ...(rec.language_aware ? { langBeta: rec.language_aware.beta } : {}),
  };
}

/** Validate parsed pruning.json; `where` names the file in messages. */
export function parsePruningRecord(json: unknown, where: string): PruningRecord {
  const r = pruningSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new PolyPruneError('CONFIG_INVALID', `${where} is not a valid PolyPrune pruning record: field "${i.path.map(String).join('.') || '(root)'}": ${i.message}. Re-export the model or remove the file.`);
  }
  return r.data as unknown as PruningRecord;
}

/** The folder's pruning.json, validated; null when the folder has none. */
export async function readPruningRecord(folder: ModelFolder): Promise<PruningRecord | null> {
  if (!(await folder.exists(PRUNING_FILE).catch(() => false))) return null;
  const where = `${PRUNING_FILE} in ${folder.location}`;
  let json: unknown;
  try {
    json = JSON.parse(await folder.readText(PRUNING_FILE));
  } catch (e) {
    if (e instanceof PolyPruneError) throw e;
    throw new PolyPruneError('CONFIG_INVALID', `${where} is not valid JSON: ${(e as Error).message}.`);
  }
  return parsePruningRecord(json, where);
}
