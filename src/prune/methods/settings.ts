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
import { parsePruneMethod, resolveLayerProfile, type LayerProfileSpec, type PruneMethod } from './index';

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
}

function resolve(s: PruneSettingsInput): PruneSettings {
  const method = parsePruneMethod(s.method);
  const pattern = resolvePattern(s);
  const layers = resolveLayerProfile({ method, ...pattern, profile: s.profile, owlM: s.owlM, owlLambda: s.owlLambda, langBeta: s.langBeta });
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
