/**
 * What the pruning methods share: the options every per-matrix pruning function takes (wanda's
 * `prune_*(..., prune_n, prune_m)` in one object) and their validation.
 *
 * N:M convention: `{ n, m }` keeps n of every m consecutive input weights of a row and prunes the
 * m - n with the lowest score (NVIDIA's "2:4 sparsity"). For 2:4 and 4:8 this is the same as wanda's
 * `--sparsity_type 2:4`, whose first number counts the pruned weights.
 */
import { PolyPruneError } from '../common/errors';

export interface NM {
  /** Weights kept in each group. */
  readonly n: number;
  /** Group size (consecutive input columns of one row). */
  readonly m: number;
}

export interface PruneOptions {
  /** Fraction pruned, in (0, 1). For N:M it is implied ((m - n) / m) and may be omitted. */
  readonly sparsity?: number;
  /** Semi-structured N:M pattern instead of unstructured pruning. */
  readonly nm?: NM;
}

// The method registry (names, what each method is, the profile rule) lives in ./methods; these
// names stay importable from here.
export { PRUNE_METHODS, PRUNE_METHOD_INFO, METHODS, MIX_METHODS, parsePruneMethod, isMixMethod, sharesMixStatistics, mixStatisticsOwner, mixMethodsServedBy, methodSpec, methodsWhere, lookupMethod, needsCalibration, orList, andList, resolveLayerProfile } from './methods';
export type { PruneMethod, PruneMethodInfo, MixMethod, LayerProfileSpec, MethodSpec } from './methods';
export { parsePruneSettings, pruneSettingsSchema, type PruneSettings, type PruneSettingsInput } from './methods/settings';

/** 'unstructured' or e.g. '2:4'. */
export function structureName(opts: PruneOptions): string {
  return opts.nm ? `${opts.nm.n}:${opts.nm.m}` : 'unstructured';
}

/** Resolved sparsity target: the ratio for unstructured pruning, (m - n) / m for N:M. */
export function targetSparsity(opts: PruneOptions): number {
  return opts.nm ? (opts.nm.m - opts.nm.n) / opts.nm.m : (opts.sparsity as number);
}

/** Check sparsity / N:M (and that N:M divides `inFeatures` when given). Throws BAD_ARGUMENT. */
export function validatePruneOptions(opts: PruneOptions, inFeatures?: number, what = 'this matrix'): void {
  const { sparsity, nm } = opts;
  if (nm) {
    const { n, m } = nm;
    if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m < 2) {
      throw new PolyPruneError('BAD_ARGUMENT', `Invalid N:M pattern ${n}:${m}: N and M must be integers with 1 <= N < M (e.g. 2:4 keeps 2 of every 4 weights).`);
    }
    if (n >= m) throw new PolyPruneError('BAD_ARGUMENT', `Invalid N:M pattern ${n}:${m}: N (weights kept per group) must be smaller than M (group size), e.g. 2:4.`);
    if (m > 32) throw new PolyPruneError('BAD_ARGUMENT', `N:M group size ${m} is too large (at most 32).`);
    if (sparsity !== undefined && Math.abs(sparsity - (m - n) / m) > 1e-12) {
      throw new PolyPruneError('BAD_ARGUMENT', `Sparsity ${sparsity} contradicts N:M ${n}:${m}, which prunes ${(m - n) / m} of the weights; give one or the other.`);
    }
    if (inFeatures !== undefined && inFeatures % m !== 0) {
      throw new PolyPruneError('BAD_ARGUMENT', `N:M ${n}:${m} needs in_features divisible by ${m}, but ${what} has ${inFeatures} input features.`);
    }
    return;
  }
  if (sparsity === undefined) throw new PolyPruneError('BAD_ARGUMENT', 'Give a sparsity ratio in (0, 1) (e.g. 0.5) or an N:M pattern (e.g. 2:4).');
  if (typeof sparsity !== 'number' || !Number.isFinite(sparsity) || sparsity <= 0 || sparsity >= 1) {
    throw new PolyPruneError('BAD_ARGUMENT', `Sparsity must be a number strictly between 0 and 1 (e.g. 0.5 for 50 %), got ${sparsity}.`);
  }
}

/** Parse 'N:M' (e.g. '2:4') and validate it; BAD_ARGUMENT otherwise. */
export function parseNm(text: string): NM {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(text);
  if (!m) throw new PolyPruneError('BAD_ARGUMENT', `An N:M pattern looks like 2:4 (keep N of every M weights), got '${text}'.`);
  const nm = { n: Number(m[1]), m: Number(m[2]) };
  validatePruneOptions({ nm });
  return nm;
}

/** Parse a sparsity ratio ('0.5', or '50%'); BAD_ARGUMENT unless strictly between 0 and 1. */
export function parseSparsity(text: string): number {
  const t = text.trim();
  const pct = /%$/.test(t);
  const x = t === '' ? NaN : Number(pct ? t.slice(0, -1) : t) / (pct ? 100 : 1);
  validatePruneOptions({ sparsity: x });
  return x;
}

/**
 * The one validator of a pruning pattern: exactly one of sparsity / N:M (N:M with a matching
 * sparsity is accepted), each valid. Returns the normalized pattern (sparsity resolved for N:M).
 */
export function resolvePattern(opts: { sparsity?: number; nm?: NM }): { sparsity: number; nm?: NM } {
  if (opts.sparsity === undefined && opts.nm === undefined) {
    throw new PolyPruneError('BAD_ARGUMENT', 'Give a sparsity ratio in (0, 1) (e.g. 0.5) or an N:M pattern (e.g. 2:4); there is no default.');
  }
  validatePruneOptions(opts);
  return opts.nm ? { sparsity: targetSparsity(opts), nm: { n: opts.nm.n, m: opts.nm.m } } : { sparsity: opts.sparsity as number };
}

/**
 * Duplicates in a list of names/languages are an error (pruning twice with the same calibration
 * measures nothing new). `what` names the list in the message.
 */
export function assertNoDuplicates(items: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const x of items) {
    const k = x.trim().toLowerCase();
    if (seen.has(k)) throw new PolyPruneError('BAD_ARGUMENT', `${what} lists '${x}' twice; give each one once.`);
    seen.add(k);
  }
}
