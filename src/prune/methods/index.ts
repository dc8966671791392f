/**
 * The method registry: the ONE list of pruning methods and what each one is (./types.ts
 * `MethodSpec`). Code outside this folder asks the registry (`METHODS[m].calibrated`,
 * `.statistic`, `.mixer`, ...), never compares a method's name.
 *
 * Adding a method: a new file here exporting its `MethodSpec` (see wanda.ts), its name in
 * PRUNE_METHODS and its entry in METHODS (the compiler asks for it), and its tests
 * (docs/architecture.md, "Adding a method").
 */
import { PolyPruneError } from '../../common/errors';
import { LANG_DEFAULT_BETA, OWL_DEFAULT_LAMBDA, OWL_DEFAULT_M, parseSparsityProfile, validateLangBeta, validateOwl, type SparsityProfile } from '../owl';
import type { NM } from '../method';
import { magnitude } from './magnitude';
import { sparsegpt } from './sparsegpt';
import { wanda } from './wanda';
import { wandaLang } from './wandaLang';
import { ria } from './ria';
import { gptq } from './gptq';
import type { MethodSpec } from './types';

export type { QuantizeSettings, MatrixPruneContext, MethodSpec, MixSupport, LlmCompressorSupport, PatternKind, StatisticKind } from './types';

/** The methods' names, in the order menus list them. */
export const PRUNE_METHODS = ['wanda', 'wanda-lang', 'sparsegpt', 'ria', 'magnitude', 'gptq'] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];

/** Every method's spec, by name: a new name in PRUNE_METHODS does not compile without its entry. */
export const METHODS = {
  wanda,
  'wanda-lang': wandaLang,
  sparsegpt,
  ria,
  magnitude,
  gptq,
} as const satisfies { readonly [K in PruneMethod]: MethodSpec<K> };

/** The methods the calibration mixer and the grid's instant rows take (`mixer.supported`), as a type. */
export type MixMethod = { [K in PruneMethod]: (typeof METHODS)[K]['mixer']['supported'] extends true ? K : never }[PruneMethod];
const isMix = (m: PruneMethod): m is MixMethod => METHODS[m].mixer.supported;
/** The mixer's methods, in registry order. */
export const MIX_METHODS: readonly MixMethod[] = PRUNE_METHODS.filter(isMix);

/** The spec of method `m`. */
export function methodSpec(m: PruneMethod): MethodSpec<PruneMethod> {
  return METHODS[m];
}

/** The methods whose spec passes `test`, in registry order. */
export function methodsWhere(test: (spec: MethodSpec<PruneMethod>) => boolean): PruneMethod[] {
  return PRUNE_METHODS.filter((m) => test(METHODS[m]));
}

/** The label, description and calibration need of a method (the page's menus). */
export interface PruneMethodInfo {
  readonly id: PruneMethod;
  readonly label: string;
  /** True when the method needs calibration text (Wanda, SparseGPT). */
  readonly calibrated: boolean;
  readonly description: string;
}

/** The pruning menus: quantizing methods (GPTQ) are run by `polyprune quantize`, not listed here. */
export const PRUNE_METHOD_INFO: readonly PruneMethodInfo[] = PRUNE_METHODS.filter((id) => !methodSpec(id).quantizes).map((id) => ({ id, label: METHODS[id].label, calibrated: METHODS[id].calibrated, description: METHODS[id].description }));

const isMethod = (name: unknown): name is PruneMethod => typeof name === 'string' && (PRUNE_METHODS as readonly string[]).includes(name);

/** The method named `name`, or BAD_ARGUMENT listing the supported ones. */
export function parsePruneMethod(name: unknown): PruneMethod {
  if (isMethod(name)) return name;
  throw new PolyPruneError('BAD_ARGUMENT', `Unknown pruning method '${String(name)}'. Supported: ${PRUNE_METHODS.join(', ')}.`);
}

/** The spec of the method named `name`, or undefined for a name the registry does not hold (records written by other versions). */
export function lookupMethod(name: unknown): MethodSpec<PruneMethod> | undefined {
  return isMethod(name) ? METHODS[name] : undefined;
}

/**
 * True unless `name` is a method that prunes without calibration (unknown names count as calibrated,
 * so their settings are shown and validated, and refused by parsePruneMethod).
 */
export function needsCalibration(name: unknown): boolean {
  return lookupMethod(name)?.calibrated !== false;
}

/** True for a method the mixer takes (its name is one of MIX_METHODS). */
export function isMixMethod(name: unknown): name is MixMethod {
  return isMethod(name) && isMix(name);
}

/**
 * True when statistics collected for mixer method `a` serve method `b`: the same statistic per input
 * group (the registry's `statistic`; SparseGPT's and GPTQ's per-source Hessians are one collection).
 */
export function sharesMixStatistics(a: MixMethod, b: MixMethod): boolean {
  return METHODS[a].statistic === METHODS[b].statistic;
}

/**
 * The method a collection of `m`'s statistics is filed under (the browser's storage key): the first
 * mixer method in registry order with the same statistic, so a SparseGPT collection and a GPTQ one
 * are the same entry.
 */
export function mixStatisticsOwner(m: MixMethod): MixMethod {
  return MIX_METHODS.find((x) => sharesMixStatistics(x, m)) ?? m;
}

/** The mixer methods that statistics collected for `m` serve (itself first). */
export function mixMethodsServedBy(m: MixMethod): MixMethod[] {
  return [m, ...MIX_METHODS.filter((x) => x !== m && sharesMixStatistics(x, m))];
}

/** 'a', 'a or b', 'a, b or c'. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** 'a', 'a and b', 'a, b and c'. */
export function andList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** What a run needs to know about the layer-wise profile and the language-aware score (resolved, with defaults). */
export interface LayerProfileSpec {
  profile: SparsityProfile;
  /** OWL only. */
  owl?: { m: number; lambda: number };
  /** Per-source methods (wanda-lang) only. */
  langBeta?: number;
}

/**
 * The one validator of the layer-wise sparsity profile (uniform or OWL, src/prune/owl.ts) and of the
 * language-aware weight: a profile the method does not take (OWL needs calibration activations) and
 * OWL with N:M (its per-layer ratios cannot be expressed as one N:M pattern) are refused clearly; M
 * and lambda only with OWL, beta only with a per-source method.
 */
export function resolveLayerProfile(o: { method: PruneMethod; sparsity?: number; nm?: NM; profile?: string; owlM?: number; owlLambda?: number; langBeta?: number }): LayerProfileSpec {
  const spec = methodSpec(o.method);
  if (spec.quantizes && (o.sparsity !== undefined || o.nm)) throw new PolyPruneError('BAD_ARGUMENT', `${o.method} quantizes and prunes nothing: give no sparsity or N:M (polyprune quantize --method ${o.method} --bits 4).`);
  const profile = parseSparsityProfile(o.profile ?? 'uniform');
  const out: LayerProfileSpec = { profile };
  if (o.nm && !spec.patterns.includes('nm')) throw new PolyPruneError('BAD_ARGUMENT', `${o.method} does not prune N:M patterns; give an unstructured sparsity (e.g. 0.5).`);
  if (!o.nm && !spec.quantizes && !spec.patterns.includes('unstructured')) throw new PolyPruneError('BAD_ARGUMENT', `${o.method} only prunes N:M patterns; give one (e.g. 2:4).`);
  if (profile === 'owl') {
    if (!spec.profiles.includes('owl')) {
      const owlMethods = methodsWhere((x) => x.profiles.includes('owl'));
      throw new PolyPruneError('BAD_ARGUMENT', `The OWL profile needs calibration activations (its outlier ratios are Wanda scores); use it with ${orList(owlMethods)}, not ${o.method}.`);
    }
    if (o.nm) throw new PolyPruneError('BAD_ARGUMENT', `The OWL profile sets a different sparsity per layer, which one N:M pattern (${o.nm.n}:${o.nm.m}) cannot express; use OWL with an unstructured sparsity (e.g. 0.5), or N:M with the uniform profile.`);
    const owl = { m: o.owlM ?? OWL_DEFAULT_M, lambda: o.owlLambda ?? OWL_DEFAULT_LAMBDA };
    validateOwl(owl, o.sparsity as number);
    out.owl = owl;
  } else if (o.owlM !== undefined || o.owlLambda !== undefined) {
    throw new PolyPruneError('BAD_ARGUMENT', "OWL's M and lambda only apply with the OWL profile (--profile owl).");
  }
  if (spec.perSource) {
    const beta = o.langBeta ?? LANG_DEFAULT_BETA;
    validateLangBeta(beta);
    out.langBeta = beta;
  } else if (o.langBeta !== undefined) {
    throw new PolyPruneError('BAD_ARGUMENT', `The language-aware weight beta only applies to the ${orList(methodsWhere((x) => x.perSource))} method.`);
  }
  return out;
}
