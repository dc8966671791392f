import { useAppStore, type ExperimentRun } from '../../../store';
import { fmtNum } from '../../../format';
import { compareWithPublished, publishedCandidatesOf } from '../publishedCompare';

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
  const rows = run.rows.map((row) => ({ row, names: publishedCandidatesOf(run, row) })).filter((x) => x.names.length > 0);
  if (!rows.length) return null;
  return (
    <section className="exp-published" aria-label="Published checkpoints">
      <h3>The authors&apos; published checkpoints</h3>
      <p className="hint">
        Rows whose settings match a checkpoint Kurz et al. published on the Hugging Face Hub (multilingual-pruning). The row is pruned again with its settings (the same masks); the published
        checkpoint is read matrix by matrix, never loaded whole, for the mask IoU, then loaded once for its perplexity on the row&apos;s held-out text.
      </p>
      {rows.map(({ row, names }) => {
        const r = results.find((x) => x.runId === run.id && x.rowId === row.id);
        return (
          <div key={row.id} className="exp-published-row" data-row={row.id}>
            <div className="row">
              <strong>{row.label}</strong>
              <span className="hint">→ {r?.repo ?? names[0]}</span>
              <button type="button" className="small" disabled={busy} aria-label={`Compare ${row.label} with the published model`} onClick={() => void compareWithPublished(row.id)}>
                {r?.status === 'running' ? 'Comparing…' : 'Compare with the published model'}
              </button>
            </div>
            {r?.status === 'failed' && (
              <p className="notice" role="note">
                {r.error}
              </p>
            )}
            {r?.status === 'done' && r.iou && r.matrices && <PublishedResult label={row.label} repo={r.repo!} r={r} />}
          </div>
        );
      })}
    </section>
  );
}

function PublishedResult({ label, repo, r }: { label: string; repo: string; r: NonNullable<ReturnType<typeof useAppStore.getState>['expPublished'][number]> }) {
  const pct = (x: number) => `${fmtNum(x * 100, 4)} %`;
  return (
    <div className="table-scroll">
      <p className="exp-published-facts" data-testid="published-facts">
        {label} vs {repo}: mean mask IoU {r.meanIou === null || r.meanIou === undefined ? '–' : r.meanIou.toFixed(4)}; zeros {pct(r.sparsity![0])} and {pct(r.sparsity![1])}.
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
