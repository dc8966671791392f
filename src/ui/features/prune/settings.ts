/**
 * The page's prune settings (the Prune and Experiment panels' method, pattern and layer profile) as
 * the fields of the one settings schema (src/prune/methods/settings.ts): {@link settingsFields}
 * builds them once for the request, {@link settingsProblem} parses them once with
 * `parsePruneSettings`, so the page shows the messages the engine and the CLI show.
 */
import { parsePruneSettings, type PruneRequest } from '../../../engine';
import type { LayerProfileSetting, PruneMethod, SparsityPattern } from './pruneSlice';

/** The settings fields of a request (PruneRequest, StudySpec) from the form. */
export type PruneSettingsFields = Pick<PruneRequest, 'method' | 'sparsity' | 'nm' | 'profile' | 'owlM' | 'owlLambda'>;

/** The form's pattern as the settings' sparsity or N:M field. */
export function patternFields(pattern: SparsityPattern): Pick<PruneRequest, 'sparsity' | 'nm'> {
  return pattern.kind === 'nm' ? { nm: { n: pattern.n, m: pattern.m } } : { sparsity: pattern.sparsity };
}

/** The form's method, pattern and layer profile as the request's settings fields. */
export function settingsFields(method: PruneMethod, pattern: SparsityPattern, profile?: LayerProfileSetting): PruneSettingsFields {
  return {
    method,
    ...(profile?.profile === 'owl' ? { profile: 'owl' as const, owlM: profile.owlM, owlLambda: profile.owlLambda } : {}),
    ...patternFields(pattern),
  };
}

/** The one parse of the form's settings: its one-line message, or null when they can run. */
export function settingsProblem(method: PruneMethod, pattern: SparsityPattern, profile?: LayerProfileSetting): string | null {
  try {
    parsePruneSettings(settingsFields(method, pattern, profile));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
