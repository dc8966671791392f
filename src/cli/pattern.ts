/**
 * Command-line parsers of --method, --sparsity and --nm for `prune` and `grid`: thin wrappers that
 * name the option, around the one registry and validator in src/prune/method.ts (reached through
 * the engine API, the CLI's layer).
 */
import { InvalidArgumentError } from 'commander';
import { PolyPruneError } from '../common/errors';
import { PRUNE_METHODS, parseNm, parsePruneMethod, parseSparsity, resolvePattern, type NM, type PruneMethod } from '../engine/api';

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
