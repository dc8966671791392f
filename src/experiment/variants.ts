/**
 * The methods of a multi-method experiment, written the one way the CLI (`grid --variant`) and the
 * page's "Methods" field take them: `method@pattern`, where the pattern is a sparsity (`0.5`, `50%`),
 * an N:M pattern (`2:4`), bits (`4bit`, with `/g64`, `/per-channel`, `/act-order`, `/static`), or a
 * pattern plus bits (`2:4+4bit`: SparseGPT's joint prune and quantize). Examples: `wanda@0.5`,
 * `sparsegpt@2:4`, `gptq@4bit`, `gptq@3bit/g32/act-order`.
 */
import { PolyPruneError } from '../common/errors';
import { assertNoDuplicates, lookupMethod, methodsWhere, parseNm, parsePruneMethod, parsePruneSettings, parseSparsity, type NM, type PruneSettings } from '../prune/method';
import type { ExperimentVariant } from './records';
import type { StudySpec, StudyVariant } from './study';

const SYNTAX = "method@pattern, e.g. wanda@0.5, sparsegpt@2:4, gptq@4bit or gptq@4bit/g64";

function bitsPart(text: string, whole: string): NonNullable<StudyVariant['quantize']> {
  const [b, ...opts] = text.split('/');
  const m = /^(\d+)\s*-?\s*bits?$/i.exec(b.trim());
  if (!m) throw new PolyPruneError('BAD_ARGUMENT', `'${whole}': '${b}' is not a bit width; write it as 4bit (${SYNTAX}).`);
  // the group size defaults where the settings are resolved (GPTQ 128, SparseGPT's joint mode per channel)
  const q: NonNullable<StudyVariant['quantize']> = { bits: Number(m[1]) };
  for (const o of opts.map((x) => x.trim().toLowerCase())) {
    const g = /^g(\d+)$/.exec(o);
    if (g) q.groupSize = Number(g[1]);
    else if (o === 'per-channel' || o === 'g-1') q.groupSize = -1;
    else if (o === 'act-order') q.actOrder = true;
    else if (o === 'static') q.staticGroups = true;
    else throw new PolyPruneError('BAD_ARGUMENT', `'${whole}': unknown quantizer option '${o}'; use /g32, /g64, /g128, /per-channel, /act-order or /static.`);
  }
  return q;
}

/** One variant from its text (checked by the registry's validators when the study is planned). */
export function parseVariant(text: string): StudyVariant {
  const t = text.trim();
  const at = t.indexOf('@');
  if (at < 1) throw new PolyPruneError('BAD_ARGUMENT', `'${text}' names no pattern; write ${SYNTAX}.`);
  const method = parsePruneMethod(t.slice(0, at).trim());
  const parts = t.slice(at + 1).split('+').map((x) => x.trim());
  if (!parts[0] || parts.length > 2) throw new PolyPruneError('BAD_ARGUMENT', `'${text}': give one pattern, bits, or a pattern plus bits (${SYNTAX}, sparsegpt@2:4+4bit).`);
  const v: StudyVariant = { method };
  for (const p of parts) {
    if (/bit/i.test(p)) {
      if (v.quantize) throw new PolyPruneError('BAD_ARGUMENT', `'${text}' gives the bits twice.`);
      v.quantize = bitsPart(p, text);
    } else if (v.sparsity !== undefined || v.nm) {
      throw new PolyPruneError('BAD_ARGUMENT', `'${text}' gives two pruning patterns; give one.`);
    } else if (p.includes(':')) v.nm = parseNm(p);
    else v.sparsity = parseSparsity(p);
  }
  return v;
}

/** A comma-separated list of variants (the page's field). */
export function parseVariantList(text: string): StudyVariant[] {
  return text
    .split(/[,;\n]/)
    .map((x) => x.trim())
    .filter(Boolean)
    .map(parseVariant);
}

/** A variant as the text parseVariant reads back. */
export function variantText(v: StudyVariant): string {
  const q = v.quantize;
  const qs = q ? `${q.bits}bit${(q.groupSize ?? 128) !== 128 ? (q.groupSize === -1 ? '/per-channel' : `/g${q.groupSize}`) : ''}${q.actOrder ? '/act-order' : ''}${q.staticGroups ? '/static' : ''}` : '';
  const ps = v.nm ? `${v.nm.n}:${v.nm.m}` : v.sparsity !== undefined && v.sparsity > 0 ? String(v.sparsity) : '';
  return `${v.method}@${[ps, qs].filter(Boolean).join('+')}`;
}

/** A variant's short name for row labels and tables: 'wanda 50%', 'sparsegpt 2:4', 'gptq 4-bit g128', 'sparsegpt 2:4 + 4-bit g128'. */
export function variantLabel(v: { method: string; sparsity: number; nm: NM | null; quantize: ExperimentVariant['quantize'] }): string {
  const q = v.quantize;
  const qs = q ? `${q.bits}-bit ${q.groupSize === -1 ? 'per-channel' : `g${q.groupSize}`}${q.actOrder ? ' act-order' : ''}${q.staticGroups ? ' static' : ''}` : '';
  const ps = v.nm ? `${v.nm.n}:${v.nm.m}` : v.sparsity > 0 ? `${+(v.sparsity * 100).toFixed(2)}%` : '';
  return [v.method, [ps, qs].filter(Boolean).join(' + ')].filter(Boolean).join(' ');
}

/**
 * The experiment's methods parsed once (the registry's validators, with the layer profile and beta):
 * `variants`, or the one method. The CLI calls it before loading anything; planStudy again.
 */
export function resolveVariants(specIn: Pick<StudySpec, 'method' | 'sparsity' | 'nm' | 'variants' | 'profile' | 'owlM' | 'owlLambda' | 'langBeta' | 'instant'>): { all: PruneSettings[]; variants: ExperimentVariant[]; labels: string[] } {
  const variantsIn: StudyVariant[] = specIn.variants ?? [{ method: specIn.method, sparsity: specIn.sparsity, nm: specIn.nm }];
  if (!variantsIn.length) throw new PolyPruneError('BAD_ARGUMENT', 'Give at least one method to compare.');
  const all = variantsIn.map((v) => parsePruneSettings({ method: v.method, sparsity: v.sparsity, nm: v.nm, quantize: v.quantize, profile: specIn.profile, owlM: specIn.owlM, owlLambda: specIn.owlLambda, langBeta: lookupMethod(v.method)?.perSource ? specIn.langBeta : undefined }));
  const variants: ExperimentVariant[] = all.map((x) => ({ method: x.method, sparsity: x.sparsity, nm: x.nm ?? null, quantize: x.quantize ? { ...x.quantize } : null }));
  const labels = variants.map(variantLabel);
  assertNoDuplicates(labels, 'The methods to compare');
  if (specIn.instant && variants.length > 1) throw new PolyPruneError('BAD_ARGUMENT', 'Instant rows mix the statistics of one method; compare several methods without the instant mode.');
  // the mixer quantizes with a quantizing method (GPTQ); a pruning method's joint prune + quantize is not offered there
  if (specIn.instant && all[0].quantize && !lookupMethod(all[0].method)?.quantizes) throw new PolyPruneError('BAD_ARGUMENT', `The instant mode's ${all[0].method} prunes only; run ${all[0].method}'s joint prune + quantize without the instant mode.`);
  if (specIn.langBeta !== undefined && !all.some((x) => x.layers.langBeta !== undefined)) throw new PolyPruneError('BAD_ARGUMENT', `The language-aware weight beta only applies to the ${methodsWhere((x) => x.perSource).join(', ')} method.`);
  return { all, variants, labels };
}

/** Check the experiment and build its empty record (no engine calls except the model's identity). */
