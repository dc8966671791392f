import { useMemo, useRef, useState } from 'react';
import type { HistoryEntry } from '../../../../experiment/history';
import { meanSpread, type ResultRecord } from '../../../../experiment/records';
import { useAppStore } from '../../../store';
import { copyShareLink, deleteEntry, exportHistory, importHistory, prepareRerun, renameEntry, toggleShown } from '../../../store/actions';
import { fmtBytes, fmtNum } from '../../../format';
import { Messages } from '../../../components/Messages/Messages';
import { masksNote } from '../names';
import { recordToRun } from '../recordRun';
import { CompareDiff } from './CompareDiff';
import { RecordView } from './RecordView';
import './HistoryPanel.css';

/** Method and sparsity of a record, for the list. */
function methodOf(rec: ResultRecord): { method: string; sparsity: string } {
  const pat = (s: { sparsity: number; nm: { n: number; m: number } | null }) => (s.nm ? `${s.nm.n}:${s.nm.m}` : `${fmtNum(s.sparsity * 100, 3)} %`);
  // How the masks were made, when not one sequential prune per row: instant rows (mixed statistics), a mixer run.
  if (rec.kind === 'experiment') return { method: `${rec.spec.method}${rec.spec.instant ? ` (${masksNote(rec.spec)})` : ''}${rec.spec.profile === 'owl' ? ', OWL' : ''}`, sparsity: pat(rec.spec) };
  if (rec.kind === 'prune') return { method: `${rec.spec.method}${rec.mix ? ` (mixer, ${rec.mix.mode})` : ''}${rec.spec.profile === 'owl' ? ', OWL' : ''}`, sparsity: pat(rec.spec) };
  return { method: '—', sparsity: '—' };
}

function sourcesOf(rec: ResultRecord): string {
  if (rec.kind === 'experiment') return rec.rows.slice(1).map((r) => r.label).join(', ') || '—';
  if (rec.kind === 'prune') return rec.calibration.map((c) => c.language ?? c.name).join(', ') || '—';
  return '—'; // perplexity and task runs measure a model; they calibrate nothing
}

/** The numbers a row of the list shows: mean perplexity over the languages, dense and pruned. */
export function headline(rec: ResultRecord): string {
  switch (rec.kind) {
    case 'experiment': {
      const mean = (r: number) => meanSpread(rec.cells[r].flatMap((c) => c.ppl))?.mean;
      const dense = mean(0);
      const pruned = meanSpread(rec.rows.slice(1).map((_, i) => mean(i + 1) ?? null))?.mean;
      const parts = [`ppl ${dense === undefined ? '—' : fmtNum(dense)} dense → ${pruned === undefined ? '—' : fmtNum(pruned)} pruned`];
      if (!rec.complete) parts.push('incomplete');
      return parts.join(', ');
    }
    case 'perplexity':
      return `ppl ${fmtNum(rec.result.ppl)} on ${rec.text.language ?? rec.text.name}`;
    case 'task':
      return `acc ${fmtNum(rec.result.acc * 100, 3)} % (${rec.result.n} items)`;
    case 'prune':
      return `${fmtNum(rec.overall * 100, 3)} % zeros`;
  }
}

function EntryRow({ e }: { e: HistoryEntry<ResultRecord> }) {
  const shown = useAppStore((s) => s.historyShown.includes(e.id));
  const busy = useAppStore((s) => s.running !== null);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const rec = e.record;
  const { method, sparsity } = methodOf(rec);
  return (
    <tr data-entry={e.id} className={shown ? 'history-shown' : undefined}>
      <td>
        {editing === null ? (
          <span className="history-name">{e.name}</span>
        ) : (
          <form
            className="row"
            onSubmit={(ev) => {
              ev.preventDefault();
              void renameEntry(e.id, editing).then(() => setEditing(null));
            }}
          >
            <input aria-label="New name" value={editing} onChange={(ev) => setEditing(ev.target.value)} autoFocus />
            <button type="submit" className="small">
              Save
            </button>
            <button type="button" className="small" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </form>
        )}
      </td>
      <td>{rec.kind}</td>
      <td>{rec.model.name}</td>
      <td>{method}</td>
      <td>{sparsity}</td>
      <td>{sourcesOf(rec)}</td>
      <td>
        <time dateTime={e.savedAt}>{new Date(e.savedAt).toLocaleString()}</time>
      </td>
      <td className="history-headline">{headline(rec)}</td>
      <td className="history-actions">
        <button type="button" className="small" aria-pressed={shown} onClick={() => toggleShown(e.id)}>
          {shown ? 'Close' : 'Open'}
        </button>
        <button type="button" className="small" onClick={() => void copyShareLink(e.id, rec)}>
          Copy share link
        </button>
        <button type="button" className="small" disabled={busy} onClick={() => void prepareRerun(rec, e.id)}>
          Re-run
        </button>
        <button type="button" className="small" onClick={() => setEditing(e.name)}>
          Rename
        </button>
        {confirm ? (
          <button type="button" className="small history-danger" onClick={() => void deleteEntry(e.id)} onBlur={() => setConfirm(false)}>
            Really delete?
          </button>
        ) : (
          <button type="button" className="small" onClick={() => setConfirm(true)}>
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

export function LinkBox({ k }: { k: string }) {
  const last = useAppStore((s) => (s.lastLink?.key === k ? s.lastLink : null));
  if (!last) return null;
  return (
    <div className="history-link" role="status">
      <label>
        {last.copied ? 'Link copied to the clipboard' : 'Copy this link'} ({(last.link.length / 1024).toFixed(1)} KB):{' '}
        <input className="history-link-input" readOnly value={last.link} onFocus={(ev) => ev.target.select()} aria-label="Share link" />
      </label>
      {last.omitted.length > 0 && <span className="hint"> Per-layer detail was left out to fit the link.</span>}
    </div>
  );
}

/** Two experiments open: their difference cell by cell (nothing for other kinds of run). */
function ShownDiff({ a, b }: { a: HistoryEntry<ResultRecord>; b: HistoryEntry<ResultRecord> }) {
  const runs = useMemo(() => (a.record.kind === 'experiment' && b.record.kind === 'experiment' ? [recordToRun(a.record), recordToRun(b.record)] : null), [a.record, b.record]);
  if (!runs) return null;
  return <CompareDiff a={runs[0]} b={runs[1]} nameA={a.name} nameB={b.name} />;
}

/** Runs kept in this browser: list, open / compare, rename, delete, share, re-run, export / import, storage. */
export function HistoryPanel() {
  const status = useAppStore((s) => s.historyStatus);
  const entries = useAppStore((s) => s.historyEntries);
  const unreadable = useAppStore((s) => s.historyUnreadable);
  const storage = useAppStore((s) => s.historyStorage);
  const shownIds = useAppStore((s) => s.historyShown);
  const lastKey = useAppStore((s) => s.lastLink?.key);
  const fileRef = useRef<HTMLInputElement>(null);
  const shown = shownIds.map((id) => entries.find((e) => e.id === id)).filter((e): e is HistoryEntry<ResultRecord> => !!e);
  return (
    <section className="panel history-panel" aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      {status.state === 'unavailable' ? (
        <p className="notice" role="note">
          {status.message}
        </p>
      ) : (
        <>
          <div className="row history-toolbar">
            <button type="button" onClick={() => void exportHistory()} disabled={!entries.length}>
              Export all
            </button>
            <button type="button" onClick={() => fileRef.current?.click()}>
              Import…
            </button>
            <input
              ref={fileRef}
              type="file"
              accept=".json,application/json"
              className="visually-hidden"
              aria-label="Import history file"
              onChange={(ev) => {
                const f = ev.target.files?.[0];
                ev.target.value = '';
                if (f) void importHistory(f);
              }}
            />
            <span className="hint history-storage" data-usage={storage?.usage ?? ''} data-quota={storage?.quota ?? ''}>
              {storage && storage.usage !== null && storage.quota !== null
                ? `Storage: ${fmtBytes(storage.usage)} used of ${fmtBytes(storage.quota)} available${storage.persisted ? ' (persistent)' : storage.persisted === false ? ' (the browser may clear it when space runs low)' : ''}.`
                : 'Storage use unknown.'}
            </span>
          </div>
          <Messages panel="history" />
          {lastKey && entries.some((e) => e.id === lastKey) && <LinkBox k={lastKey} />}
          {entries.length === 0 ? (
            <p className="hint">No runs yet. Every finished run (perplexity, tasks, prune, experiment) is kept here, in this browser only.</p>
          ) : (
            <div className="table-scroll">
              <table className="history-table" aria-label="Runs">
                <thead>
                  <tr>
                    <th scope="col">name</th>
                    <th scope="col">kind</th>
                    <th scope="col">model</th>
                    <th scope="col">method</th>
                    <th scope="col">sparsity</th>
                    <th scope="col">calibration</th>
                    <th scope="col">date</th>
                    <th scope="col">headline</th>
                    <th scope="col">
                      <span className="visually-hidden">actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {entries.map((e) => (
                    <EntryRow key={e.id} e={e} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {unreadable > 0 && <p className="hint">{unreadable} stored run(s) could not be read by this version and are not listed.</p>}
          {shown.length === 2 && <ShownDiff a={shown[0]} b={shown[1]} />}
          {shown.length > 0 && (
            <div className={`history-compare history-compare-${shown.length}`}>
              {shown.map((e) => (
                <article key={e.id} className="history-view" data-entry={e.id} aria-label={`Run ${e.name}`}>
                  <header className="row">
                    <h3>{e.name}</h3>
                    <button type="button" className="small" onClick={() => toggleShown(e.id)}>
                      Close
                    </button>
                  </header>
                  <RecordView rec={e.record} name={e.name} />
                </article>
              ))}
            </div>
          )}
        </>
      )}
    </section>
  );
}
