/**
 * Reading pruning.json back: a folder, dropped files, a zip's contents or a URL that PolyPrune wrote
 * is recognised as a pruned model. The file is validated with zod (format 'polyprune-pruning/1');
 * a malformed one is reported, never guessed at.
 */
import { PolyPruneError } from '../common/errors';
import type { ModelFolder } from '../io/source';
import { pruningSchema, type PruningRecord } from './pruningRecord';

export const PRUNING_FILE = 'pruning.json';

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
  return r.data;
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
