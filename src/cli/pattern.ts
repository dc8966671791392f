/**
 * Command-line parsers of --method, --sparsity and --nm for `prune` and `grid`: thin wrappers that
 * name the option, around the one registry and validator in src/prune/method.ts (reached through
 * the engine API, the CLI's layer).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import {
  LANG_DEFAULT_BETA,
  OWL_DEFAULT_LAMBDA,
  OWL_DEFAULT_M,
  PRUNE_METHODS,
  SPARSITY_PROFILES,
  parseNm,
  parsePruneMethod,
  parseSparsity,
  parsePruneSettings,
  resolvePattern,
  type NM,
  type PruneMethod,
  type SparsityProfile,
} from '../engine';

export function sparsityArg(v: string): number {
  try {
    return parseSparsity(v);
  } catch {
    throw new InvalidArgumentError(`--sparsity must be a number in (0, 1), e.g. 0.5 or 50% (got '${v}').`);
  }
}

export function nmArg(v: string): NM {
  try {
    return parseNm(v);
  } catch (e) {
    throw new InvalidArgumentError(`--nm ${v}: ${(e as Error).message}`);
  }
}

export function methodArg(v: string): PruneMethod {
  try {
    return parsePruneMethod(v);
  } catch {
    throw new PolyPruneError('BAD_ARGUMENT', `Unknown --method '${v}'. Supported: ${PRUNE_METHODS.join(', ')}.`);
  }
}

/** Exactly one of --sparsity / --nm (the same rule as the engine's; there is no default). */
export function patternArgs(o: { sparsity?: number; nm?: NM }): { sparsity?: number; nm?: NM } {
  if ((o.sparsity === undefined) === (o.nm === undefined)) throw new PolyPruneError('BAD_ARGUMENT', 'Give exactly one of --sparsity <ratio> or --nm <N:M>; there is no default.');
  resolvePattern(o);
  return o.nm ? { nm: o.nm } : { sparsity: o.sparsity };
}

function numberArg(flag: string): (v: string) => number {
  return (v: string) => {
    const x = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(x)) throw new InvalidArgumentError(`${flag} must be a number (got '${v}').`);
    return x;
  };
}

/** --profile, --owl-m, --owl-lambda, --lang-beta (for `prune` and `grid`). */
export function addProfileOptions(cmd: Command): Command {
  return cmd
    .option('--profile <name>', `layer-wise sparsity: ${SPARSITY_PROFILES.join(' or ')} (owl: outlier-weighed layer-wise sparsity, Yin et al. 2023; wanda, wanda-lang, sparsegpt; unstructured only)`)
    .option('--owl-m <M>', `OWL outlier threshold: a score above M x the layer's mean is an outlier (default ${OWL_DEFAULT_M})`, numberArg('--owl-m'))
    .option('--owl-lambda <l>', `OWL: layer sparsities spread over 2 x lambda around the target (default ${OWL_DEFAULT_LAMBDA})`, numberArg('--owl-lambda'))
    .option('--lang-beta <b>', `wanda-lang: weight of the spread of the per-source input norms (default ${LANG_DEFAULT_BETA})`, numberArg('--lang-beta'));
}

/** The layer profile options, checked by the one validator (resolveLayerProfile); only the given ones are returned. */
export function profileArgs(
  o: { profile?: string; owlM?: number; owlLambda?: number; langBeta?: number },
  method: PruneMethod,
  pattern: { sparsity?: number; nm?: NM },
): { profile?: SparsityProfile; owlM?: number; owlLambda?: number; langBeta?: number } {
  parsePruneSettings({ method, ...pattern, profile: o.profile, owlM: o.owlM, owlLambda: o.owlLambda, langBeta: o.langBeta });
  return {
    ...(o.profile !== undefined ? { profile: o.profile as SparsityProfile } : {}),
    ...(o.owlM !== undefined ? { owlM: o.owlM } : {}),
    ...(o.owlLambda !== undefined ? { owlLambda: o.owlLambda } : {}),
    ...(o.langBeta !== undefined ? { langBeta: o.langBeta } : {}),
  };
}

/** --bits: 2, 3, 4 or 8 (GPTQ, and SparseGPT's joint mode). */
export function bitsArg(v: string): number {
  const n = Number(v);
  if (![2, 3, 4, 8].includes(n)) throw new InvalidArgumentError(`--bits must be 2, 3, 4 or 8 (got '${v}').`);
  return n;
}

/** --group-size: a positive number of columns, or per-channel / -1. */
export function groupSizeArg(v: string): number {
  if (v === 'per-channel' || v === '-1') return -1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--group-size must be a positive number of columns (e.g. 128) or per-channel (got '${v}').`);
  return n;
}
