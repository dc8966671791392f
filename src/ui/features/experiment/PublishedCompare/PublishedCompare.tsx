import { useAppStore, type ExperimentRun } from '../../../store';
import { fmtNum } from '../../../format';
import { useState } from 'react';
import { compareWithPublished, publishedCandidatesOf } from '../publishedCompare';
import { PUBLISHED_SEEDS, comparableSeeds } from '../../../../experiment/published';

/**
 * The live run's rows whose settings match a checkpoint the authors published (multilingual-pruning on
 * the Hub), each with "Compare with the published model"; after it, the mask IoU per layer and matrix
 * of the row's masks against the published checkpoint's zero weights and both perplexities.
 */
export function PublishedCompare({ run }: { run: ExperimentRun }) {
  useAppStore((s) => s.sources); // the rows' sources name their corpus
  const results = useAppStore((s) => s.expPublished);
  const busy = useAppStore((s) => s.running !== null);
  if (run.status === 'running') return null;
  const rows = run.rows.filter((row) => publishedCandidatesOf(run, row).length > 0);
  if (!rows.length) return null;
  return (
    <section className="exp-published" aria-label="Published checkpoints">
      <h3>The authors&apos; published checkpoints</h3>
      <p className="hint">
        Rows whose settings match a checkpoint Kurz et al. published on the Hugging Face Hub (multilingual-pruning). The row is pruned again with its settings (the same masks); the published
        checkpoint is read matrix by matrix, never loaded whole, for the mask IoU, then loaded once for its perplexity on the row&apos;s held-out text. Pick the seed: the row is
        pruned again with it and compared with the checkpoint of that seed (the study published seeds {PUBLISHED_SEEDS.join(', ')}).
      </p>
      {rows.map((row) => (
        <PublishedRow key={row.id} run={run} row={row} busy={busy} result={results.find((x) => x.runId === run.id && x.rowId === row.id)} />
      ))}
    </section>
  );
}

type Comparison = ReturnType<typeof useAppStore.getState>['expPublished'][number];

/** One row: its seed (the run's seeds, then the published ones), the checkpoint it names, the button and the result. */
function PublishedRow({ run, row, busy, result: r }: { run: ExperimentRun; row: ExperimentRun['rows'][number]; busy: boolean; result: Comparison | undefined }) {
  const seeds = comparableSeeds(run.settings.seeds);
  const [seed, setSeed] = useState(r?.seed ?? seeds[0]);
  const names = publishedCandidatesOf(run, row, seed);
  const shown = r && r.seed === seed ? r : undefined;
  return (
    <div className="exp-published-row" data-row={row.id}>
      <div className="row">
        <strong>{row.label}</strong>
        <label className="hint">
          seed{' '}
          <select aria-label={`Seed to compare for ${row.label}`} value={seed} disabled={busy} onChange={(e) => setSeed(Number(e.target.value))}>
            {seeds.map((x) => (
              <option key={x} value={x}>
                {x}
                {run.settings.seeds.includes(x) ? ' (this run)' : ' (published; pruned again here)'}
              </option>
            ))}
          </select>
        </label>
        <span className="hint">→ {shown?.repo ?? names[0]}</span>
        <button type="button" className="small" disabled={busy} aria-label={`Compare ${row.label} with the published model`} onClick={() => void compareWithPublished(row.id, seed)}>
          {r?.status === 'running' ? `Comparing seed ${r.seed ?? seed}…` : 'Compare with the published model'}
        </button>
      </div>
      {r && r.status !== 'running' && r.seed !== seed && <p className="hint">The last comparison of this row was with seed {r.seed}; pick it to see it again, or compare seed {seed}.</p>}
      {shown?.status === 'failed' && (
        <p className="notice" role="note">
          {shown.error}
        </p>
      )}
      {shown?.status === 'done' && shown.iou && shown.matrices && <PublishedResult label={row.label} repo={shown.repo!} r={shown} />}
    </div>
  );
}

function PublishedResult({ label, repo, r }: { label: string; repo: string; r: Comparison }) {
  const pct = (x: number) => `${fmtNum(x * 100, 4)} %`;
  return (
    <div className="table-scroll">
      <p className="exp-published-facts" data-testid="published-facts">
        {label}, seed {r.seed ?? 0}, vs {repo}: mean mask IoU {r.meanIou === null || r.meanIou === undefined ? '–' : r.meanIou.toFixed(4)}; zeros {pct(r.sparsity![0])} and {pct(r.sparsity![1])}.
        {r.ppl && ` Perplexity on ${r.ppl.text} (${r.ppl.language}, ${r.ppl.windows} windows of ${r.ppl.seqlen} tokens): this row ${r.ppl.row.toFixed(4)}, published ${r.ppl.published.toFixed(4)}.`}
      </p>
      <table className="heatmap exp-mask" aria-label={`Mask IoU, ${label} vs ${repo}`}>
        <thead>
          <tr>
            <th scope="col">layer</th>
            {r.matrices!.map((x) => (
              <th key={x} scope="col">
                {x.replace(/^(self_attn|mlp)\./, '')}
              </th>
            ))}
            <th scope="col">mean</th>
          </tr>
        </thead>
        <tbody>
          {r.iou!.map((row, layer) => (
            <tr key={layer}>
              <th scope="row">{layer}</th>
              {[...row, r.layerIou?.[layer] ?? null].map((v, j) => (
                <td
                  key={j}
                  aria-label={`${label} vs ${repo}, layer ${layer}, ${r.matrices![j] ?? 'mean'}: IoU ${v === null ? 'n/a' : v.toFixed(3)}`}
                  style={v === null ? undefined : { background: `hsl(215 70% ${96 - 50 * v}%)`, color: v > 0.7 ? '#fff' : 'var(--text)' }}
                >
                  {v === null ? '–' : v.toFixed(2)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
