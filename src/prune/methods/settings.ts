/**
 * The prune settings, parsed once: one zod schema for what a run is asked (method, sparsity or N:M,
 * layer profile, wanda-lang's beta, SparseGPT's solver settings), parsed at the boundary (the
 * engine's prune, the run, the study, the CLI's options, the page's fields) into a readonly
 * {@link PruneSettings} that the code below takes. Its checks are the registry's and
 * src/prune/method.ts's validators, so every front end shows the same one-line messages.
 */
import { z } from 'zod';
import { PolyPruneError } from '../../common/errors';
import { resolvePattern, type NM } from '../method';
import { methodsWhere, methodSpec, parsePruneMethod, resolveLayerProfile, type LayerProfileSpec, type PruneMethod } from './index';
import { validateGptqOptions } from './gptq';

/** The settings as asked (untrusted: a request, CLI options, the page's fields). */
export interface PruneSettingsInput {
  method: unknown;
  sparsity?: number;
  nm?: NM;
  profile?: string;
  owlM?: number;
  owlLambda?: number;
  langBeta?: number;
  blocksize?: number;
  percdamp?: number;
  /** Quantizing methods (GPTQ): bits, columns per group (-1 per channel), act-order, static groups. */
  quantize?: { bits: number; groupSize?: number; actOrder?: boolean; staticGroups?: boolean };
}

/** The settings resolved: a known method, the pattern with its sparsity (implied by N:M), the layer profile with its defaults. */
export interface PruneSettings {
  readonly method: PruneMethod;
  /** Target sparsity (unstructured ratio, or (m - n) / m for N:M). */
  readonly sparsity: number;
  readonly nm?: NM;
  /** Uniform or OWL (with M and lambda), and wanda-lang's beta. */
  readonly layers: Readonly<LayerProfileSpec>;
  /** SparseGPT's block size and dampening when given (the registry's `solver` holds the defaults). */
  readonly blocksize?: number;
  readonly percdamp?: number;
  /** Quantizing methods only: the resolved quantizer settings (group size -1 = per channel). */
  readonly quantize?: { readonly bits: number; readonly groupSize: number; readonly actOrder: boolean; readonly staticGroups: boolean };
}

function resolve(s: PruneSettingsInput): PruneSettings {
  const method = parsePruneMethod(s.method);
  const quantizes = !!methodSpec(method).quantizes;
  if (quantizes) {
    if (!s.quantize) throw new PolyPruneError('BAD_ARGUMENT', `${method} quantizes: give the bits (e.g. 4).`);
    validateGptqOptions(s.quantize);
  } else if (s.quantize) {
    if (!methodSpec(method).jointQuantize) throw new PolyPruneError('BAD_ARGUMENT', `${method} prunes and takes no bits or group size; quantize with ${methodsWhere((x) => !!x.quantizes).join(', ')}, or prune and quantize together with ${methodsWhere((x) => !!x.jointQuantize).join(', ')}.`);
    validateGptqOptions({ bits: s.quantize.bits });
    const g = s.quantize.groupSize;
    if ((g !== undefined && g !== -1) || s.quantize.actOrder || s.quantize.staticGroups) {
      throw new PolyPruneError('BAD_ARGUMENT', `${method}'s joint prune + quantize mode quantizes per channel (one scale and zero per row, as the SparseGPT reference); drop the group size, act-order and static groups.`);
    }
    if (s.profile === 'owl') throw new PolyPruneError('BAD_ARGUMENT', `${method}'s joint prune + quantize mode takes a uniform sparsity; run OWL without bits.`);
  }
  // a quantizer prunes nothing (resolveLayerProfile refuses a sparsity or N:M given with it)
  const pattern = quantizes ? { sparsity: 0 } : resolvePattern(s);
  const layers = resolveLayerProfile({ method, ...(quantizes ? { sparsity: s.sparsity, nm: s.nm } : pattern), profile: s.profile, owlM: s.owlM, owlLambda: s.owlLambda, langBeta: s.langBeta });
  if (s.blocksize !== undefined && (!Number.isInteger(s.blocksize) || s.blocksize < 1)) {
    throw new PolyPruneError('BAD_ARGUMENT', `SparseGPT block size must be a positive integer, got ${s.blocksize}.`);
  }
  if (s.nm && s.blocksize !== undefined && s.blocksize % s.nm.m !== 0) {
    throw new PolyPruneError('BAD_ARGUMENT', `SparseGPT block size ${s.blocksize} must be a multiple of the N:M group size ${s.nm.m}.`);
  }
  if (s.percdamp !== undefined && !(s.percdamp >= 0 && Number.isFinite(s.percdamp))) {
    throw new PolyPruneError('BAD_ARGUMENT', `percdamp must be a non-negative number, got ${s.percdamp}.`);
  }
  return Object.freeze({
    method,
    ...pattern,
    layers: Object.freeze({ ...layers }),
    ...(s.blocksize !== undefined ? { blocksize: s.blocksize } : {}),
    ...(s.percdamp !== undefined ? { percdamp: s.percdamp } : {}),
    ...(s.quantize ? { quantize: Object.freeze({ bits: s.quantize.bits, groupSize: s.quantize.groupSize ?? (quantizes ? 128 : -1), actOrder: !!s.quantize.actOrder, staticGroups: !!s.quantize.staticGroups }) } : {}),
  });
}

/** The one schema of the prune settings; its issues carry the validators' messages. */
export const pruneSettingsSchema = z
  .object({
    method: z.unknown(),
    sparsity: z.any().optional(),
    nm: z.any().optional(),
    profile: z.any().optional(),
    owlM: z.any().optional(),
    owlLambda: z.any().optional(),
    langBeta: z.any().optional(),
    blocksize: z.any().optional(),
    percdamp: z.any().optional(),
    quantize: z.any().optional(),
  })
  .transform((s, ctx): PruneSettings => {
    try {
      return resolve(s as PruneSettingsInput);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

/** Parse the settings once (BAD_ARGUMENT with the one-line message of the first problem). */
export function parsePruneSettings(input: PruneSettingsInput): PruneSettings {
  const r = pruneSettingsSchema.safeParse(input);
  if (!r.success) throw new PolyPruneError('BAD_ARGUMENT', r.error.issues[0]?.message ?? 'Invalid prune settings.');
  return r.data;
}
