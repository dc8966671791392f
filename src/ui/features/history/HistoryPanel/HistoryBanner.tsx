import { useRef } from 'react';
import { useAppStore } from '../../../store';
import { addRerunFiles, cancelRerunSetup, closeShared, copyShareLink, discardResume, prepareRerun, resumeRun, saveRecord, startRerun } from '../../../store/actions';
import { fmtBytes } from '../../../format';
import { LinkBox } from './HistoryPanel';
import { RecordView } from './RecordView';
import './HistoryPanel.css';

/** Files a re-run needs that the page does not have: named by name, size and SHA-256. */
function RerunSetup() {
  const rerun = useAppStore((s) => s.rerun);
  const busy = useAppStore((s) => s.running !== null);
  const fileRef = useRef<HTMLInputElement>(null);
  if (!rerun) return null;
  return (
    <div className="notice history-rerun" role="region" aria-label="Re-run">
      <p>
        Re-run: the same {rerun.record.kind === 'experiment' ? 'experiment' : rerun.record.kind === 'prune' ? 'pruning (settings and calibration)' : rerun.record.kind === 'task' ? 'task' : 'perplexity measurement'} on the same model ({rerun.record.model.name}), measured
        again on this device.
      </p>
      {rerun.needed.length > 0 ? (
        <>
          <p>These files are not part of the app, so they were not in the link; give the same files (checked by SHA-256):</p>
          <table className="history-needed" aria-label="Files needed">
            <thead>
              <tr>
                <th scope="col">name</th>
                <th scope="col">size</th>
                <th scope="col">SHA-256</th>
              </tr>
            </thead>
            <tbody>
              {rerun.needed.map((f) => (
                <tr key={f.sha256} data-sha256={f.sha256}>
                  <td>{f.name}</td>
                  <td>{fmtBytes(f.bytes)}</td>
                  <td>
                    <code>{f.sha256}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => fileRef.current?.click()}>
            Give files…
          </button>
          <input
            ref={fileRef}
            type="file"
            multiple
            className="visually-hidden"
            aria-label="Files for the re-run"
            onChange={(ev) => {
              const files = [...(ev.target.files ?? [])];
              ev.target.value = '';
              if (files.length) void addRerunFiles(files);
            }}
          />
        </>
      ) : (
        <p>Every text it needs is here (bundled, fetched again from the Hugging Face Hub, or given; hashes checked).</p>
      )}
      <div className="row actions">
        <button type="button" className="primary" disabled={!rerun.ready || busy} onClick={() => void startRerun()}>
          Start re-run
        </button>
        <button type="button" onClick={() => cancelRerunSetup()}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/**
 * Top of the page: the result of a share link (shown at once, marked as shared, with provenance),
 * an interrupted experiment to resume or discard, the re-run set-up. Re-runs and resumes show their
 * progress in the panel of their kind (an experiment in the Experiment panel).
 */
export function HistoryBanner() {
  const shared = useAppStore((s) => s.shared);
  const offer = useAppStore((s) => s.resumeOffer);
  const busy = useAppStore((s) => s.running !== null);
  // A resumed experiment runs in the Experiment panel; the offer comes back if it stops again.
  const running = useAppStore((s) => s.running?.panel === 'experiment');
  return (
    <>
      {offer && !running && (
        <div className="notice history-resume" role="region" aria-label="Interrupted experiment">
          <p>
            An experiment was interrupted: <strong>{offer.label}</strong>, {offer.done} of {offer.total} cells measured (last saved {new Date(offer.updatedAt).toLocaleString()}). Resume measures only
            what is missing.
          </p>
          <div className="row">
            <button type="button" className="primary" disabled={busy} onClick={() => void resumeRun()}>
              Resume
            </button>
            <button type="button" disabled={busy} onClick={() => void discardResume()}>
              Discard
            </button>
          </div>
        </div>
      )}
      <RerunSetup />
      {shared && (
        <section className="panel history-shared" aria-labelledby="shared-heading">
          <header className="row">
            <h2 id="shared-heading">
              <span className="history-badge">Shared result</span> {shared.record.kind === 'experiment' ? 'Experiment' : shared.record.kind}
            </h2>
          </header>
          <p className="hint">Opened from a link: these numbers were measured elsewhere and are shown as they were, not recomputed. Re-run measures them again here.</p>
          <RecordView rec={shared.record} omitted={shared.omitted} name="shared result" />
          <div className="row actions">
            <button type="button" onClick={() => void saveRecord(shared.record)}>
              Save to History
            </button>
            <button type="button" onClick={() => void copyShareLink('shared', shared.record)}>
              Copy share link
            </button>
            <button type="button" disabled={busy} onClick={() => void prepareRerun(shared.record, 'shared')}>
              Re-run
            </button>
            <button type="button" onClick={() => closeShared()}>
              Close
            </button>
          </div>
          <LinkBox k="shared" />
        </section>
      )}
    </>
  );
}
