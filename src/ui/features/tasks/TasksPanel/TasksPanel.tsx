import { decodeTextFile } from '../../../../common/text';
import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { TASK_NAMES, type TaskName } from '../../../../engine';
import { TASKS } from '../../../../eval/tasks/index';
import { useAppStore, type TaskRow } from '../../../store';
import { reportError, runTasks, taskLanguages } from '../../../store/actions';
import { fmtBytes } from '../../../format';
import { LanguagePicker } from '../../../components/LanguagePicker/LanguagePicker';
import { Messages } from '../../../components/Messages/Messages';
import { OpProgress } from '../../../components/OpProgress/OpProgress';
import { useDropZone } from '../../../hooks/useDropZone';
import { TaskResultHead, TaskScoreCells } from './TaskResultTable';
import './TasksPanel.css';

/** Multiple-choice accuracy of the active model (or every loaded model) on UDHR or a task file. */
export function TasksPanel() {
  const s = useAppStore(
    useShallow((st) => ({
      source: st.taskSource,
      limit: st.taskLimit,
      which: st.taskModels,
      modelCount: st.models.length,
      hasModel: st.models.some((m) => m.id === st.activeModelId),
      busy: st.running !== null,
    })),
  );
  const { setTaskSource, setTaskLimit, setTaskModels } = useAppStore.getState();
  return (
    <section className="panel tasks-panel" aria-labelledby="tasks-heading">
      <h2 id="tasks-heading">Tasks</h2>
      <p className="hint tasks-intro">
        Multiple-choice accuracy scored as lm-evaluation-harness does: <code>acc</code> picks the choice with the highest log-likelihood, <code>acc_norm</code> divides it by the
        choice&apos;s length in characters, <code>acc_bytes</code> by its length in UTF-8 bytes; ± is the standard error.
      </p>
      <div className="tasks-form">
        <fieldset className="tasks-source">
          <legend>Task</legend>
          <label>
            <input type="radio" name="task-source" checked={s.source === 'udhr'} onChange={() => setTaskSource('udhr')} /> Bundled UDHR sentence continuation
          </label>
          <label>
            <input type="radio" name="task-source" checked={s.source === 'file'} onChange={() => setTaskSource('file')} /> A task file
          </label>
        </fieldset>
        <div className="tasks-options">
          <fieldset className="tasks-models">
            <legend>Models</legend>
            <label>
              <input type="radio" name="task-models" checked={s.which === 'active'} onChange={() => setTaskModels('active')} /> active model
            </label>
            <label>
              <input type="radio" name="task-models" checked={s.which === 'all'} onChange={() => setTaskModels('all')} /> all {s.modelCount > 1 ? `${s.modelCount} ` : ''}loaded models
              (dense and pruned)
            </label>
          </fieldset>
          <label className="tasks-limit">
            Max items per task{' '}
            <input type="number" min={1} step={1} placeholder="all" value={Number.isFinite(s.limit) ? s.limit : ''} onChange={(e) => setTaskLimit(e.target.valueAsNumber)} />
          </label>
        </div>
      </div>
      {s.source === 'udhr' ? <UdhrChooser /> : <TaskFileChooser />}
      <div className="row actions">
        <button type="button" className="primary" disabled={!s.hasModel || s.busy} onClick={() => void runTasks()}>
          Score
        </button>
        {!s.hasModel && <span className="hint">Load a model first.</span>}
      </div>
      <OpProgress panel="tasks" />
      <Messages panel="tasks" />
      <TaskResults />
    </section>
  );
}

function UdhrChooser() {
  const udhr = useAppStore((s) => s.udhr);
  const selected = useAppStore((s) => s.udhrSelected);
  const setSelected = useAppStore((s) => s.setUdhrSelected);
  const modelLangs = useAppStore((s) => s.languages);
  if (udhr.state === 'loading') return <p className="hint">Looking for the bundled UDHR task…</p>;
  if (udhr.state === 'missing')
    return (
      <p className="notice" role="note">
        {udhr.message}
      </p>
    );
  const presets = modelLangs.state === 'ready' ? [{ label: "The bundled model's languages", languages: modelLangs.languages }] : [];
  return (
    <LanguagePicker
      legend="UDHR languages"
      options={udhr.languages.map((l) => ({ code: l.language, title: `${l.name}${l.items ? `, ${l.items} items` : ''}` }))}
      selected={selected}
      onChange={setSelected}
      presets={presets}
    />
  );
}

function TaskFileChooser() {
  const file = useAppStore((s) => s.taskFile);
  const format = useAppStore((s) => s.taskFormat);
  const language = useAppStore((s) => s.taskLanguage);
  const { setTaskFile, setTaskFormat, setTaskLanguage } = useAppStore.getState();
  const supported = taskLanguages(format);
  const lineCount = useMemo(() => (file ? file.text.split('\n').filter((l) => l.trim()).length : 0), [file]);

  const readFile = (f: File | undefined): void => {
    if (!f) return;
    f.arrayBuffer()
      .then((buf) => setTaskFile({ name: f.name, bytes: f.size, text: decodeTextFile(f.name, new Uint8Array(buf), { what: 'Task file', allowEmpty: true }) }))
      .catch((e: unknown) => reportError('tasks', e));
  };
  const { dragging, handlers: drop } = useDropZone((data) => readFile(data.files[0]));
  const changeFormat = (t: TaskName): void => {
    setTaskFormat(t);
    const langs = taskLanguages(t);
    if (langs && !langs.includes(language)) setTaskLanguage('');
  };

  return (
    <div className="task-file">
      <div className={`task-drop${dragging ? ' dragging' : ''}`} {...drop}>
        <label className="button-like">
          Open task file…
          <input
            type="file"
            aria-label="Task file"
            className="visually-hidden"
            accept=".jsonl,.json,.tsv,.txt,application/json,text/plain,text/tab-separated-values"
            onChange={(e) => {
              readFile(e.target.files?.[0]);
              e.target.value = '';
            }}
          />
        </label>
        <span className="hint task-file-name">
          {file ? `${file.name}: ${fmtBytes(file.bytes)}, ${lineCount} non-empty line${lineCount === 1 ? '' : 's'}` : 'or drop a file here (JSONL, TSV, JSON)'}
        </span>
      </div>
      <div className="row task-file-options">
        <label>
          Format{' '}
          <select value={format} onChange={(e) => changeFormat(e.target.value as TaskName)}>
            {TASK_NAMES.map((t) => (
              <option key={t} value={t}>
                {t}: {TASKS[t].description}
              </option>
            ))}
          </select>
        </label>
        {supported ? (
          <label>
            Language{' '}
            <select value={language} onChange={(e) => setTaskLanguage(e.target.value)}>
              <option value="">choose…</option>
              {supported.map((l) => (
                <option key={l} value={l}>
                  {l}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <label>
            Language label <input className="task-lang-label" type="text" placeholder="optional" value={language} onChange={(e) => setTaskLanguage(e.target.value)} />
          </label>
        )}
      </div>
      {supported && <p className="hint">{format} words its prompt per language; choose the language of the file.</p>}
    </div>
  );
}

function TaskResults() {
  const rows = useAppStore((s) => s.taskRows);
  const clear = useAppStore((s) => s.clearTaskRows);
  if (!rows.length) return null;
  const withWarnings = rows.filter((r) => r.result.warnings.length);
  const key = (r: TaskRow): string => `${r.modelId}|${r.source}|${r.result.task}|${r.result.language}`;
  return (
    <div className="task-results">
      <div className="table-scroll">
        <table className="data-table">
          <caption className="visually-hidden">Task results</caption>
          <TaskResultHead />
          <tbody>
            {rows.map((r) => (
              <tr key={key(r)} data-task={r.result.task} data-language={r.result.language}>
                <td className="text" title={r.source}>
                  {r.result.task}
                  {r.source !== 'UDHR (bundled)' && <span className="hint"> {r.source}</span>}
                </td>
                <td className="text">{r.result.language}</td>
                <td className="text">{r.modelName}</td>
                <TaskScoreCells r={r.result} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {withWarnings.length > 0 && (
        <div className="task-warnings">
          {withWarnings.map((r) => (
            <details key={key(r)} open={withWarnings.length === 1}>
              <summary>
                {r.result.warnings.length} warning{r.result.warnings.length === 1 ? '' : 's'}: {r.result.task} {r.result.language} ({r.source}) on {r.modelName}
              </summary>
              <ul>
                {r.result.warnings.slice(0, 50).map((w, i) => (
                  <li key={i}>{w}</li>
                ))}
                {r.result.warnings.length > 50 && <li>… and {r.result.warnings.length - 50} more</li>}
              </ul>
            </details>
          ))}
        </div>
      )}
      <div className="row actions">
        <button type="button" className="small" onClick={clear}>
          Clear results
        </button>
      </div>
    </div>
  );
}
