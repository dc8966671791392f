/**
 * The names of the pruned checkpoints Kurz et al. published on the Hugging Face Hub (organisation
 * `multilingual-pruning`): `pruned-<model>-<method>-<ratio>-<type>-<dataset>-<lang>-<seed>`, e.g.
 * `pruned-llama3-8b-instruct-wanda-0.5-2to4-mc4-zh-1234`. The organisation's listing (docs/data.md,
 * "Published checkpoints") holds names with the prefix once and twice (`pruned-pruned-...`), for
 * seed 0 as well as 42 and 1234, so both spellings are candidates; issue 21's rule (twice for seeds 42
 * and 1234) decides which is tried first.
 *
 * The `<model>` part is data: {@link PUBLISHED_MODELS} (the names seen in the organisation), which a
 * caller extends with its own entries (`--published-model org/name=part` in the CLI,
 * `?publishedModel=org/name=part` in the page) for a model the table lacks or a copy under another id.
 */
import { PolyPruneError } from '../common/errors';

export const PUBLISHED_ORG = 'multilingual-pruning';

/** One base model and the `<model>` part of its published checkpoints' names. */
export interface PublishedModel {
  /** Hugging Face id of the base model, as loaded (`org/name`, no revision). */
  hubId: string;
  /** The `<model>` part of the names. */
  part: string;
}

/** Base models in the organisation's checkpoint names (seen in its model listing; docs/data.md). */
export const PUBLISHED_MODELS: readonly PublishedModel[] = [
  { hubId: 'meta-llama/Meta-Llama-3-8B-Instruct', part: 'llama3-8b-instruct' },
  { hubId: 'meta-llama/Meta-Llama-3-70B-Instruct', part: 'llama3-70b-instruct' },
  { hubId: 'CohereForAI/aya-23-8B', part: 'aya-23-8b' },
  { hubId: 'CohereForAI/aya-23-35B', part: 'aya-23-35b' },
];

/**
 * Extra entries from `org/name=part` pairs (comma- or space-separated), for the CLI's
 * `--published-model` and the page's `?publishedModel=`. A malformed pair is refused naming it.
 */
export function parsePublishedModels(spec: string): PublishedModel[] {
  const out: PublishedModel[] = [];
  for (const pair of spec.split(/[\s,]+/).filter(Boolean)) {
    const m = /^([\w.-]+\/[\w.-]+)=([a-z0-9][a-z0-9.-]*)$/i.exec(pair);
    if (!m) throw new PolyPruneError('BAD_ARGUMENT', `'${pair}' is not a published model entry; write <org>/<name>=<name part>, e.g. meta-llama/Meta-Llama-3-8B-Instruct=llama3-8b-instruct.`);
    out.push({ hubId: m[1], part: m[2].toLowerCase() });
  }
  return out;
}

/** The Hub id of a model source (`org/name`, `hf:org/name@rev`, `org/name@rev (Hugging Face Hub)`), or null when it is not one. */
export function hubIdOfSource(source: string): string | null {
  const s = source.replace(/ \(Hugging Face Hub\)$/, '').replace(/^hf:/, '').replace(/@.*$/, '');
  return /^[\w.-]+\/[\w.-]+$/.test(s) ? s : null;
}

/** The `<model>` part for a base model (case-insensitive id), extra entries first; null when unknown. */
export function publishedModelPart(model: string, extra: readonly PublishedModel[] = []): string | null {
  const id = hubIdOfSource(model)?.toLowerCase();
  if (!id) return null;
  return [...extra, ...PUBLISHED_MODELS].find((m) => m.hubId.toLowerCase() === id)?.part ?? null;
}

/** The seeds in the organisation's names (`-0`, `-42`, `-1234`; docs/data.md). */
export const PUBLISHED_SEEDS: readonly number[] = [0, 42, 1234];

/** The seeds a comparison may use: the run's own first, then the published ones it lacks. */
export function comparableSeeds(runSeeds: readonly number[]): number[] {
  return [...new Set([...runSeeds, ...PUBLISHED_SEEDS])];
}

export interface PublishedRun {
  /** Base model Hub id (e.g. meta-llama/Meta-Llama-3-8B-Instruct; a revision or `hf:` is ignored). */
  model: string;
  method: string;
  /** Sparsity ratio (0.5; 2:4 is 0.5 too). */
  ratio: number;
  /** N:M pattern, or none for unstructured. */
  nm?: { n: number; m: number };
  dataset: string;
  language: string;
  seed: number;
}

/** Hub ids the published checkpoint of this run may have, the naming rule's first; [] for a model without a `<model>` part. */
export function publishedCandidates(r: PublishedRun, extra: readonly PublishedModel[] = []): string[] {
  const model = publishedModelPart(r.model, extra);
  if (!model) return [];
  const type = r.nm ? `${r.nm.n}to${r.nm.m}` : 'unstructured';
  const base = `pruned-${model}-${r.method}-${r.ratio}-${type}-${r.dataset}-${r.language}-${r.seed}`;
  const twice = r.seed === 42 || r.seed === 1234;
  const names = twice ? [`pruned-${base}`, base] : [base, `pruned-${base}`];
  return names.map((n) => `${PUBLISHED_ORG}/${n}`);
}

/**
 * The published run a calibration source name stands for: one Hub corpus source
 * (`hub:mc4:de@<sha12>` in the page, `hub:mc4:de@<sha12>+<offset>` in the CLI) gives the dataset and
 * language of the name; anything else (a file, a mix, another corpus spelling) none.
 */
export function publishedCalibration(sourceNames: readonly string[]): { dataset: string; language: string } | null {
  if (sourceNames.length !== 1) return null;
  const m = /^hub:(\w+):([\w-]+)@/.exec(sourceNames[0]);
  return m ? { dataset: m[1], language: m[2] } : null;
}
