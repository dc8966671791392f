/**
 * The prune settings on the command line (`prune`, `grid`, `mix`, `quantize`): the options are the
 * fields of the one settings schema (src/prune/methods/settings.ts, reached through the engine API),
 * under the same names; the parsers below only read the text of an option (a number, `50%`, `2:4`),
 * and {@link settingsArgs} checks everything in ONE `parsePruneSettings`, so the CLI prints the
 * messages the engine and the page print.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { PolyPruneError } from '../common/errors';
import { LANG_DEFAULT_BETA, OWL_DEFAULT_LAMBDA, OWL_DEFAULT_M, SPARSITY_PROFILES, methodSpec, methodsWhere, parsePruneMethod, parsePruneSettings, type PruneMethod, type PruneRequest, type PruneSettings, type PruneSettingsInput, type SparsityProfile } from '../engine';

/** The settings' fields as the CLI's options carry them (commander's names are the schema's); the method as typed. */
export type PruneCliFields = Omit<PruneSettingsInput, 'method' | 'blocksize' | 'percdamp'> & { method?: string };

/** The settings fields of a request (PruneRequest, StudySpec), once parsed: only what was given. */
export type PruneSettingsFields = Pick<PruneRequest, 'sparsity' | 'nm' | 'profile' | 'owlM' | 'owlLambda' | 'langBeta' | 'quantize'>;

/** --sparsity as typed: a number or a percentage ('0.5', '50%'); its range is the settings' check. */
export function sparsityArg(v: string): number {
  const t = v.trim();
  const pct = t.endsWith('%');
  const x = t === '' || t === '%' ? NaN : Number(pct ? t.slice(0, -1) : t) / (pct ? 100 : 1);
  if (!Number.isFinite(x)) throw new InvalidArgumentError(`--sparsity must be a number in (0, 1), e.g. 0.5 or 50% (got '${v}').`);
  return x;
}

/** --nm as typed: 'N:M'; whether the pattern works is the settings' check. */
export function nmArg(v: string): { n: number; m: number } {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError(`--nm ${v}: an N:M pattern looks like 2:4 (keep N of every M weights).`);
  return { n: Number(m[1]), m: Number(m[2]) };
}

/** --method: a registered method (the registry's message otherwise). */
export function methodArg(v: string): PruneMethod {
  return parsePruneMethod(v);
}

/**
 * The settings of one command, checked once (`parsePruneSettings`: the engine's and the page's
 * messages) after the CLI's own rule that exactly one of --sparsity / --nm is given (there is no
 * default; quantizers take neither; SparseGPT's joint mode takes one, with `quantize`). Returns the resolved settings and the fields to send.
 */
export function settingsArgs(o: PruneCliFields & { method: string }): { method: PruneMethod; settings: PruneSettings; fields: PruneSettingsFields } {
  const method = methodArg(o.method);
  if (!methodSpec(method).quantizes && (o.sparsity === undefined) === (o.nm === undefined)) throw new PolyPruneError('BAD_ARGUMENT', 'Give exactly one of --sparsity <ratio> or --nm <N:M>; there is no default.');
  const settings = parsePruneSettings({ method, sparsity: o.sparsity, nm: o.nm, profile: o.profile, owlM: o.owlM, owlLambda: o.owlLambda, langBeta: o.langBeta, quantize: o.quantize });
  const fields: PruneSettingsFields = {
    ...(o.sparsity !== undefined ? { sparsity: o.sparsity } : {}),
    ...(o.nm !== undefined ? { nm: o.nm } : {}),
    ...(o.profile !== undefined ? { profile: o.profile as SparsityProfile } : {}),
    ...(o.owlM !== undefined ? { owlM: o.owlM } : {}),
    ...(o.owlLambda !== undefined ? { owlLambda: o.owlLambda } : {}),
    ...(o.langBeta !== undefined ? { langBeta: o.langBeta } : {}),
    ...(o.quantize !== undefined ? { quantize: o.quantize } : {}),
  };
  return { method, settings, fields };
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
    .option('--profile <name>', `layer-wise sparsity: ${SPARSITY_PROFILES.join(' or ')} (owl: outlier-weighed layer-wise sparsity, Yin et al. 2023; ${methodsWhere((m) => m.profiles.includes('owl')).join(', ')}; unstructured only)`)
    .option('--owl-m <M>', `OWL outlier threshold: a score above M x the layer's mean is an outlier (default ${OWL_DEFAULT_M})`, numberArg('--owl-m'))
    .option('--owl-lambda <l>', `OWL: layer sparsities spread over 2 x lambda around the target (default ${OWL_DEFAULT_LAMBDA})`, numberArg('--owl-lambda'))
    .option('--lang-beta <b>', `wanda-lang: weight of the spread of the per-source input norms (default ${LANG_DEFAULT_BETA})`, numberArg('--lang-beta'));
}

/** The layer-profile fields as given (rows of several methods share them; each row's settings are checked by resolveVariants). */
export function profileFields(o: Pick<PruneCliFields, 'profile' | 'owlM' | 'owlLambda' | 'langBeta'>): PruneSettingsFields {
  return {
    ...(o.profile !== undefined ? { profile: o.profile as SparsityProfile } : {}),
    ...(o.owlM !== undefined ? { owlM: o.owlM } : {}),
    ...(o.owlLambda !== undefined ? { owlLambda: o.owlLambda } : {}),
    ...(o.langBeta !== undefined ? { langBeta: o.langBeta } : {}),
  };
}

/** --bits as typed (a whole number); which bits work is the settings' check (src/prune/methods/gptq.ts). */
export function bitsArg(v: string): number {
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`--bits must be 2, 3, 4 or 8 (got '${v}').`);
  return n;
}

/** --group-size as typed (a whole number, or per-channel = -1); which sizes work is the settings' check. */
export function groupSizeArg(v: string): number {
  if (v === 'per-channel') return -1;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`--group-size must be a positive number of columns (e.g. 128) or per-channel (got '${v}').`);
  return n;
}
