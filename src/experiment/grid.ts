/**
 * The study's experiment: prune once per calibration language, then measure held-out perplexity in
 * every evaluation language (plus the dense model as the baseline). Runs against any implementation
 * of the few engine calls it needs (in-thread engine in the CLI, the worker client in the app).
 */
import { z } from 'zod';
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import type { PerplexityRecord } from '../eval/results';
import { PRUNE_METHODS, assertNoDuplicates, resolvePattern, type PruneMethod } from '../prune/method';

export const gridSpecSchema = z.object({
  method: z.enum(PRUNE_METHODS as unknown as [PruneMethod, ...PruneMethod[]]),
  /** Checked by resolvePattern (src/prune/method.ts), the one validator. */
  sparsity: z.custom<number>((v) => typeof v === 'number', 'expected a number').optional(),
  nm: z.object({ n: z.number(), m: z.number() }).optional(),
  /** Calibration languages (rows of the matrix). */
  calibLanguages: z.array(z.string().min(1)).min(1),
  /** Evaluation languages (columns). */
  evalLanguages: z.array(z.string().min(1)).min(1),
  nsamples: z.number().int().min(1),
  seqlen: z.number().int().min(2),
  seed: z.number().int().min(0).default(0),
  evalSeqlen: z.number().int().min(2),
  /** Score at most this many windows per evaluation language. */
  evalMaxWindows: z.number().int().min(1).optional(),
});
export type GridSpec = z.input<typeof gridSpecSchema>;

/** What the grid needs from an engine (a structural subset of the Engine API). */
export interface GridEngine {
  prune(
    id: string,
    req: {
      method: PruneMethod;
      sparsity?: number;
      nm?: { n: number; m: number };
      calibration?: { texts: { name: string; text?: string; language?: string }[]; nsamples: number; seqlen: number; seed?: number };
      name?: string;
    },
    opts?: { opId?: string; onProgress?: ProgressCallback },
  ): Promise<{ model: { id: string; name: string }; report: { overall: number } }>;
  perplexity(id: string, req: { text: string; seqlen: number; maxWindows?: number; language?: string }, opts?: { opId?: string; onProgress?: ProgressCallback }): Promise<PerplexityRecord>;
  unloadModel(id: string): Promise<void>;
}

export interface GridCell {
  ppl: number;
  bitsPerByte: number | null;
  meanNll: number;
  tokens: number;
}

export interface GridResult {
  spec: z.output<typeof gridSpecSchema>;
  dense: Record<string, GridCell>;
  /** rows[calibLanguage][evalLanguage] */
  rows: Record<string, Record<string, GridCell>>;
  /** Overall sparsity reached per calibration language. */
  sparsity: Record<string, number>;
}

/** Texts by language: `calib(lang)` and `eval(lang)` return the held-out text of that language. */
export interface GridTexts {
  calib(language: string): Promise<string>;
  eval(language: string): Promise<string>;
}

const cell = (r: PerplexityRecord): GridCell => ({ ppl: r.ppl, bitsPerByte: r.bitsPerByte, meanNll: r.meanNll, tokens: r.tokens });

export async function runGrid(engine: GridEngine, modelId: string, specIn: GridSpec, texts: GridTexts, opts: { signal?: AbortSignal; onProgress?: ProgressCallback; opId?: string } = {}): Promise<GridResult> {
  const parsed = gridSpecSchema.safeParse(specIn);
  if (!parsed.success) throw new PolyPruneError('BAD_ARGUMENT', `Invalid grid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const spec = parsed.data;
  // the one rule (src/prune/method.ts): exactly one of sparsity / N:M, each valid; no duplicates
  resolvePattern({ sparsity: spec.sparsity, nm: spec.nm });
  assertNoDuplicates(spec.calibLanguages, 'The calibration languages');
  assertNoDuplicates(spec.evalLanguages, 'The evaluation languages');
  const evalTexts = new Map<string, string>();
  for (const l of spec.evalLanguages) {
    const t = await texts.eval(l);
    if (!t.trim()) throw new PolyPruneError('BAD_ARGUMENT', `The evaluation text for '${l}' is empty.`);
    evalTexts.set(l, t);
  }
  const total = (spec.calibLanguages.length + 1) * spec.evalLanguages.length + spec.calibLanguages.length;
  let done = 0;
  const step = (message: string) => opts.onProgress?.({ kind: 'eval', message, done: ++done, total });
  const measure = async (id: string): Promise<Record<string, GridCell>> => {
    const out: Record<string, GridCell> = {};
    for (const l of spec.evalLanguages) {
      throwIfAborted(opts.signal);
      out[l] = cell(await engine.perplexity(id, { text: evalTexts.get(l)!, seqlen: spec.evalSeqlen, maxWindows: spec.evalMaxWindows, language: l }, { opId: opts.opId, onProgress: opts.onProgress }));
      step(`perplexity ${l}`);
    }
    return out;
  };
  const dense = await measure(modelId);
  const rows: GridResult['rows'] = {};
  const sparsity: GridResult['sparsity'] = {};
  for (const c of spec.calibLanguages) {
    throwIfAborted(opts.signal);
    const text = spec.method === 'magnitude' ? '' : await texts.calib(c);
    const pruned = await engine.prune(
      modelId,
      {
        method: spec.method,
        sparsity: spec.sparsity,
        nm: spec.nm,
        calibration: spec.method === 'magnitude' ? undefined : { texts: [{ name: `${c}.txt`, text, language: c }], nsamples: spec.nsamples, seqlen: spec.seqlen, seed: spec.seed },
      },
      { opId: opts.opId, onProgress: opts.onProgress },
    );
    step(`pruned with ${c} calibration`);
    try {
      sparsity[c] = pruned.report.overall;
      rows[c] = await measure(pruned.model.id);
    } finally {
      await engine.unloadModel(pruned.model.id);
    }
  }
  return { spec, dense, rows, sparsity };
}

/** Markdown table: rows = calibration language, columns = evaluation language, cells = perplexity. */
export function gridMarkdown(g: GridResult, metric: 'ppl' | 'bitsPerByte' = 'ppl'): string {
  const ev = g.spec.evalLanguages;
  const fmt = (c: GridCell) => (metric === 'ppl' ? c.ppl.toFixed(2) : c.bitsPerByte === null ? 'n/a' : c.bitsPerByte.toFixed(3));
  const lines = [`| calibration \\ eval | ${ev.join(' | ')} |`, `|---|${ev.map(() => '---').join('|')}|`, `| dense (no pruning) | ${ev.map((l) => fmt(g.dense[l])).join(' | ')} |`];
  for (const c of g.spec.calibLanguages) {
    const best = (l: string) => g.spec.calibLanguages.every((o) => g.rows[o][l][metric === 'ppl' ? 'ppl' : 'meanNll'] >= g.rows[c][l][metric === 'ppl' ? 'ppl' : 'meanNll']);
    lines.push(`| ${c} | ${ev.map((l) => (best(l) ? `**${fmt(g.rows[c][l])}**` : fmt(g.rows[c][l]))).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** For each evaluation language that is also a calibration language: is its own calibration the best? */
export function ownLanguageWins(g: GridResult): { language: string; own: number; best: string; bestPpl: number; wins: boolean }[] {
  return g.spec.evalLanguages
    .filter((l) => g.spec.calibLanguages.includes(l))
    .map((l) => {
      let best = l;
      for (const c of g.spec.calibLanguages) if (g.rows[c][l].ppl < g.rows[best][l].ppl) best = c;
      return { language: l, own: g.rows[l][l].ppl, best, bestPpl: g.rows[best][l].ppl, wins: best === l };
    });
}
