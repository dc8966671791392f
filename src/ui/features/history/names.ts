/**
 * Names of History entries. A record's title says what kind of run it is (method, pattern, how the
 * masks were made, its size, the model); when another entry already has that name, the new one gets
 * what differs from it in brackets ("… (calibration de, fr; seeds 0, 1)"), and "#2", "#3" only when
 * nothing differs (the same settings run again). Pure functions: the store actions pass the list.
 */
import { needsCalibration } from '../../../engine';
import type { ResultRecord } from '../../../experiment/records';

const pct = (x: number): string => `${Math.round(x * 1000) / 10} %`;
const patternOf = (s: { sparsity: number; nm: { n: number; m: number } | null }): string => (s.nm ? `${s.nm.n}:${s.nm.m}` : pct(s.sparsity));
const short = (h: string): string => h.slice(0, 8);

/** How an experiment's pruned rows were made, in words ('' for sequential prunes). */
export function masksNote(spec: { instant?: true; confirm?: true }): string {
  return spec.instant ? (spec.confirm ? 'instant rows + exact rows' : 'instant rows') : '';
}

/** The default name of a record in History. */
export function recordTitle(rec: ResultRecord): string {
  switch (rec.kind) {
    case 'experiment': {
      const s = rec.spec;
      const how = [masksNote(s), s.profile === 'owl' ? 'OWL' : ''].filter(Boolean).join(', ');
      return `${s.method} ${patternOf(s)}${how ? ` (${how})` : ''}: ${rec.rows.length - 1} × ${rec.columns.length} on ${rec.model.name}`;
    }
    case 'prune':
      return `${rec.mix ? `mix (${rec.mix.mode}) ` : ''}${rec.spec.method} ${patternOf(rec.spec)} of ${rec.model.name}`;
    case 'perplexity':
      return `perplexity ${rec.result.language} on ${rec.model.name}`;
    case 'task':
      return `${rec.settings.task} ${rec.settings.language} on ${rec.model.name}`;
  }
}

/**
 * What a record was made of, as (key, words) pairs: two records with the same title differ in at
 * least one of these unless they are the same settings run again.
 */
export function recordFacets(rec: ResultRecord): [string, string][] {
  const out: [string, string][] = [['kind', rec.kind], ['model', `model ${short(rec.model.sha256)}`]];
  const texts = (refs: { sha256: string }[]): string => refs.map((r) => short(r.sha256)).join('+');
  switch (rec.kind) {
    case 'experiment': {
      const s = rec.spec;
      const tasks = [...new Set(rec.columns.flatMap((c) => c.tasks.map((t) => t.label)))];
      out.push(
        ['method', `${s.method} ${patternOf(s)}`],
        ['masks', masksNote(s) || 'sequential prunes'],
        ['profile', s.profile === 'owl' && s.owl ? `OWL M ${s.owl.m} λ ${s.owl.lambda}` : 'uniform'],
        ['beta', s.langBeta !== undefined ? `beta ${s.langBeta}` : ''],
        ['calibration', `calibration ${rec.rows.slice(1).map((r) => r.label).join(', ') || 'none'}`],
        ['calibration-texts', `calibration texts ${rec.rows.slice(1).map((r) => texts(r.sources)).join(', ')}`],
        ['windows', !needsCalibration(s.method) ? '' : `${s.nsamples} × ${s.seqlen} calibration tokens`],
        ['languages', `evaluation ${rec.columns.map((c) => c.language).join(', ')}`],
        ['eval', `${s.evalMaxWindows ?? 'all'} evaluation windows of ${s.evalSeqlen}`],
        ['tasks', tasks.length ? `tasks ${tasks.join(', ')}` : 'no tasks'],
        ['items', tasks.length && s.taskLimit ? `${s.taskLimit} items per task` : ''],
        ['seeds', `seed${s.seeds.length === 1 ? '' : 's'} ${s.seeds.join(', ')}`],
        ['complete', rec.complete ? 'complete' : 'incomplete'],
      );
      break;
    }
    case 'prune':
      out.push(
        ['method', `${rec.spec.method} ${patternOf(rec.spec)}`],
        ['profile', rec.spec.profile === 'owl' && rec.spec.owl ? `OWL M ${rec.spec.owl.m} λ ${rec.spec.owl.lambda}` : 'uniform'],
        ['calibration', `calibration ${rec.calibration.map((c) => c.language ?? c.name).join(', ') || 'none'}`],
        ['calibration-texts', `calibration texts ${texts(rec.calibration)}`],
        ['weights', rec.mix ? `weights ${rec.mix.weights.map((w) => Math.round(w * 100) / 100).join(', ')}` : ''],
        ['windows', rec.spec.nsamples ? `${rec.spec.nsamples} × ${rec.spec.seqlen} calibration tokens` : ''],
        ['seeds', rec.spec.seed === null ? '' : `seed ${rec.spec.seed}`],
      );
      break;
    case 'perplexity':
      out.push(
        ['text', `text ${rec.text.name} ${short(rec.text.sha256)}`],
        ['eval', `${rec.settings.maxWindows ?? 'all'} windows of ${rec.settings.seqlen}${rec.settings.stride ? `, stride ${rec.settings.stride}` : ''}`],
      );
      break;
    case 'task':
      out.push(['text', `file ${rec.file.name} ${short(rec.file.sha256)}`], ['items', rec.settings.limit ? `${rec.settings.limit} items` : 'all items']);
      break;
  }
  return out;
}

/**
 * A name for `rec` that no entry in `others` has: `base` when free; else `base (what differs)`, the
 * facets of `rec` that differ from the entries of that name; else `base #k`.
 */
export function distinctName(base: string, rec: ResultRecord, others: readonly { name: string; record: ResultRecord }[]): string {
  const taken = new Set(others.map((o) => o.name));
  if (!taken.has(base)) return base;
  const mine = recordFacets(rec);
  const same = others.filter((o) => o.name === base || o.name.startsWith(`${base} (`) || o.name.startsWith(`${base} #`));
  const differs = mine.filter(([key, words]) => words && same.some((o) => (recordFacets(o.record).find(([k]) => k === key)?.[1] ?? '') !== words));
  // 'kind' and 'model' are in the title already when they differ; say the rest first.
  const keys = new Set(differs.map(([k]) => k));
  const words = differs.filter(([k]) => k !== 'kind' && !(k === 'calibration-texts' && keys.has('calibration'))).map(([, w]) => w);
  let name = words.length ? `${base} (${words.join('; ')})` : base;
  if (!taken.has(name)) return name;
  const stem = name;
  for (let k = 2; taken.has(name); k++) name = `${stem} #${k}`;
  return name;
}
