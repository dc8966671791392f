import { useShallow } from 'zustand/react/shallow';
import { MIX_METHODS, methodSpec, PRUNE_METHOD_INFO, TASK_NAMES, needsCalibration, orList, type TaskName } from '../../../../engine';
import { ProfileField } from '../../../components/ProfileField/ProfileField';
import { DEFAULT_EXP_SPARSITY, DEFAULT_EXP_TASK_ITEMS, useAppStore, type PruneMethod } from '../../../store';
import { addExpTaskFiles, runExperiment } from '../../../store/actions';
import { fmtBytes } from '../../../format';
import { LanguagePicker } from '../../../components/LanguagePicker/LanguagePicker';
import { Messages } from '../../../components/Messages/Messages';
import { OpProgress } from '../../../components/OpProgress/OpProgress';
import { SparsityField } from '../../../components/SparsityField/SparsityField';
import { ExperimentResults } from '../ExperimentResults/ExperimentResults';
import { RunEstimate } from '../RunEstimate/RunEstimate';
import { SourceList } from '../../sources/SourceList/SourceList';
import { HubTaskChooser } from '../HubTaskChooser/HubTaskChooser';
import { PresetCard } from '../PresetCard/PresetCard';
import { parseVariantList, resolveVariants } from '../../../../experiment/variants';
import './ExperimentPanel.css';

/** The issue's comparison, one click away. */
const COMPARE_EXAMPLE = 'wanda@0.5, sparsegpt@2:4, gptq@4bit';

/** The methods typed in "Methods to compare", checked (labels), or the one-line problem. */
function variantsOf(text: string): { labels: string[]; calibrated: number } | { error: string } | null {
  if (!text.trim()) return null;
  try {
    const vs = parseVariantList(text);
    return { labels: resolveVariants({ method: vs[0]?.method ?? 'wanda', variants: vs }).labels, calibrated: vs.filter((v) => needsCalibration(v.method)).length };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

// the one registry of pruning methods (src/prune/method.ts)
const METHODS: { value: PruneMethod; label: string; about: string }[] = PRUNE_METHOD_INFO.map((m) => ({ value: m.id, label: m.calibrated ? m.label : `${m.label} (no calibration)`, about: m.description }));

const num = (x: number): number | '' => (Number.isFinite(x) ? x : '');

/**
 * The study's experiment, live: rows = the dense model and one pruned model per calibration source,
 * columns = evaluation languages, cells = perplexity, bits per byte and task accuracy.
 */
export function ExperimentPanel() {
  const s = useAppStore(
    useShallow((st) => ({
      languages: st.languages,
      method: st.expMethod,
      pattern: st.expPattern,
      nsamples: st.expNsamples,
      seqlen: st.expSeqlen,
      evalWindows: st.expEvalWindows,
      seeds: st.expSeedCount,
      evalLanguages: st.expEvalLanguages,
      udhr: st.expUdhr,
      taskLimit: st.expTaskLimit,
      udhrList: st.udhr,
      selected: st.sources.filter((x) => x.selected).length,
      owl: st.layerProfile.profile === 'owl',
      instant: st.expInstant,
      confirm: st.expConfirm,
      variants: st.expVariants,
    })),
  );
  const model = useAppStore((st) => st.models.find((m) => m.id === st.activeModelId));
  const busy = useAppStore((st) => st.running !== null);
  const setExp = useAppStore((st) => st.setExp);
  const langs = s.languages.state === 'ready' ? s.languages.languages : [];
  const udhrLangs = new Set(s.udhrList.state === 'ready' ? s.udhrList.languages.map((l) => l.language) : []);
  const evl = langs.filter((l) => s.evalLanguages.includes(l));
  const compare = variantsOf(s.variants);
  const multi = compare && 'labels' in compare ? compare : null;
  const calibrated = multi ? multi.calibrated > 0 : needsCalibration(s.method);
  const rows = multi ? multi.calibrated * s.selected + (multi.labels.length - multi.calibrated) : calibrated ? s.selected : 1;
  const prunes = multi ? multi.calibrated * s.selected * s.seeds + (multi.labels.length - multi.calibrated) : rows * (calibrated ? s.seeds : 1);

  return (
    <section className="panel exp-panel" aria-labelledby="exp-heading">
      <h2 id="exp-heading">Experiment</h2>
      <p className="hint exp-intro">
        What does calibrating in one language do to perplexity and task accuracy in every language? Each calibration source prunes its own copy of the active model;
        every copy and the dense model are measured on the held-out text and tasks of each evaluation language. Cells appear as they are measured.
      </p>
      {s.languages.state === 'missing' && (
        <p className="notice" role="note">
          {s.languages.message}
        </p>
      )}
      <PresetCard />
      <div className="exp-form">
        <SourceList />
        <div className="exp-eval">
          <LanguagePicker legend="Evaluation languages (columns)" options={langs.map((code) => ({ code, title: udhrLangs.has(code) ? 'has the bundled UDHR task' : undefined }))} selected={s.evalLanguages} onChange={(l) => setExp({ expEvalLanguages: l })} disabled={busy} />
          <HeldOutTextChooser />
          <TaskChooser />
        </div>
      </div>
      <details className="exp-settings">
        <summary>
          Settings: {multi ? multi.labels.join(' vs ') : `${s.method}, ${s.pattern.kind === 'nm' ? `${s.pattern.n}:${s.pattern.m}` : `${Math.round(s.pattern.sparsity * 100)} %`}`}
          {s.owl && calibrated ? ' (OWL layer-wise)' : ''}
          {s.instant ? `, instant rows${s.confirm ? ' + exact' : ''}` : ''}
          {calibrated ? `, ${s.nsamples} calibration windows` : ''} of {s.seqlen} tokens, {s.evalWindows} evaluation windows, {calibrated ? s.seeds : 1} seed{s.seeds === 1 || !calibrated ? '' : 's'}
          , {Number.isNaN(s.taskLimit) ? 'all' : s.taskLimit} items per task
        </summary>
        <p className="hint exp-defaults-why">
          The defaults (Wanda {Math.round(DEFAULT_EXP_SPARSITY * 100)} %, {DEFAULT_EXP_TASK_ITEMS} task items per cell) are measured choices for the bundled model: at 50 % pruning barely moves its task accuracy, at{' '}
          {Math.round(DEFAULT_EXP_SPARSITY * 100)} % it costs many points (and perplexity rises several-fold), more with another language&apos;s calibration text, and {DEFAULT_EXP_TASK_ITEMS} items make such a drop larger than its standard error (docs/eval-tasks.md).
        </p>
        <div className="exp-settings-grid">
          <div className="field">
            <label htmlFor="exp-method">Pruning method</label>
            <select id="exp-method" aria-describedby="exp-method-about" value={s.method} disabled={busy} onChange={(e) => setExp({ expMethod: e.target.value as PruneMethod })}>
              {METHODS.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
            <span id="exp-method-about" className="hint">
              {METHODS.find((m) => m.value === s.method)?.about}
            </span>
          </div>
          <SparsityField name="exp-pattern" context="Experiment" pattern={s.pattern} onChange={(p) => setExp({ expPattern: p })} />
          <div className="field exp-variants">
            <label htmlFor="exp-variants">Methods to compare</label>
            <input
              id="exp-variants"
              type="text"
              placeholder={`e.g. ${COMPARE_EXAMPLE}`}
              value={s.variants}
              disabled={busy}
              aria-invalid={!!compare && 'error' in compare}
              aria-describedby="exp-variants-about"
              onChange={(e) => setExp({ expVariants: e.target.value })}
            />
            <button type="button" className="small" disabled={busy} onClick={() => setExp({ expVariants: COMPARE_EXAMPLE })}>
              Wanda 50 % vs SparseGPT 2:4 vs GPTQ 4-bit
            </button>
            <span id="exp-variants-about" className={compare && 'error' in compare ? 'hint error' : 'hint'}>
              {compare && 'error' in compare
                ? compare.error
                : multi
                  ? `Rows: ${multi.labels.join(', ')}, each per calibration source, with the exported size of each (the method and pattern above are not used).`
                  : 'Optional: several methods side by side, one row per method and calibration source, with the size of each exported model. method@pattern, the pattern a sparsity (0.5), N:M (2:4) or bits (4bit, 4bit/g64).'}
            </span>
          </div>
          <ProfileField context="Experiment" disabled={busy || !calibrated || s.pattern.kind === 'nm'} />
          <div className="field">
            <label htmlFor="exp-nsamples">Windows per calibration source</label>
            <input id="exp-nsamples" type="number" min={1} step={1} disabled={!calibrated} value={num(s.nsamples)} onChange={(e) => setExp({ expNsamples: e.target.valueAsNumber })} />
          </div>
          <div className="field">
            <label htmlFor="exp-seqlen">Window length (tokens)</label>
            <input id="exp-seqlen" type="number" min={2} max={model?.maxPositionEmbeddings} step={1} value={num(s.seqlen)} onChange={(e) => setExp({ expSeqlen: e.target.valueAsNumber })} />
          </div>
          <div className="field">
            <label htmlFor="exp-evalwin">Evaluation windows per language</label>
            <input id="exp-evalwin" type="number" min={1} step={1} value={num(s.evalWindows)} onChange={(e) => setExp({ expEvalWindows: e.target.valueAsNumber })} />
          </div>
          <div className="field">
            <label htmlFor="exp-seeds">Seeds</label>
            <input id="exp-seeds" type="number" min={1} max={10} step={1} disabled={!calibrated} value={num(s.seeds)} onChange={(e) => setExp({ expSeedCount: e.target.valueAsNumber })} />
          </div>
          <div className="field">
            <label htmlFor="exp-instant">
              <input id="exp-instant" type="checkbox" checked={s.instant} disabled={busy} aria-describedby="exp-instant-about" onChange={(e) => setExp({ expInstant: e.target.checked })} /> Instant rows
            </label>
            <span id="exp-instant-about" className="hint">
              One calibration pass per seed collects every source&apos;s statistics; each row&apos;s masks are mixed from them at once instead of one sequential prune per row ({orList(MIX_METHODS.map((m) => methodSpec(m).label))}, uniform
              sparsity; GPTQ as one method to compare, e.g. gptq@4bit: quantized from the mixed Hessians; an approximation from layer 1 on, see the Calibration mixer).
            </span>
            <label htmlFor="exp-confirm">
              <input id="exp-confirm" type="checkbox" checked={s.confirm} disabled={busy || !s.instant} onChange={(e) => setExp({ expConfirm: e.target.checked })} /> Confirm: also the exact prune of each row (GPTQ: the exact quantize)
            </label>
          </div>
          <div className="field">
            <label htmlFor="exp-limit">Task items per cell</label>
            <input id="exp-limit" type="number" min={1} step={1} placeholder="all" value={num(s.taskLimit)} onChange={(e) => setExp({ expTaskLimit: e.target.valueAsNumber })} />
          </div>
        </div>
      </details>
      <div className="row actions">
        <button type="button" className="primary" disabled={!model || busy} onClick={() => void runExperiment()}>
          Run experiment
        </button>
        <span className="hint">
          {model
            ? `${s.instant && calibrated ? `${s.seeds} calibration pass${s.seeds === 1 ? '' : 'es'}, ${prunes} mask update${prunes === 1 ? '' : 's'}${s.confirm ? ` and ${prunes} exact prune${prunes === 1 ? '' : 's'}` : ''}` : `${prunes} prune${prunes === 1 ? '' : 's'}`} of ${model.name}, ${(prunes * (s.instant && s.confirm ? 2 : 1) + 1) * evl.length} perplexity measurements.`
            : 'Load a model first (the bundled one loads by itself).'}
        </span>
      </div>
      <RunEstimate />
      <OpProgress panel="experiment" />
      <Messages panel="experiment" />
      <ExperimentResults />
    </section>
  );
}

/** Where each column's held-out perplexity text comes from: the bundled evaluation text, or a Hub corpus by language (mC4's validation shards, as the study). */
function HeldOutTextChooser() {
  const evalHub = useAppStore((st) => st.expEvalHub);
  const busy = useAppStore((st) => st.running !== null);
  const setExp = useAppStore((st) => st.setExp);
  const choices = [
    { value: '', label: 'bundled evaluation text (offline)' },
    { value: 'mc4:{lang}:validation', label: 'mC4 validation shards (allenai/c4, Hugging Face Hub)' },
  ];
  if (evalHub && !choices.some((c) => c.value === evalHub)) choices.push({ value: evalHub, label: `${evalHub} (Hugging Face Hub)` });
  return (
    <label className="exp-heldout">
      Held-out perplexity text{' '}
      <select aria-label="Held-out perplexity text" value={evalHub} disabled={busy} onChange={(e) => setExp({ expEvalHub: e.target.value })}>
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      {evalHub && <span className="hint"> documents in the corpus&apos;s order from its start, as many bytes as the evaluation windows need, read when the experiment runs (cached with the weights).</span>}
    </label>
  );
}

/** Tasks per evaluation language: the bundled UDHR task and task files tagged with a language. */
function TaskChooser() {
  const udhr = useAppStore((s) => s.expUdhr);
  const bundledOn = useAppStore((s) => s.expBundled);
  const bundled = useAppStore((s) => s.bundledTasks);
  const files = useAppStore((s) => s.expTaskFiles);
  const languages = useAppStore((s) => s.languages);
  const busy = useAppStore((s) => s.running !== null);
  const setExp = useAppStore((s) => s.setExp);
  const update = useAppStore((s) => s.updateExpTaskFile);
  const remove = useAppStore((s) => s.removeExpTaskFile);
  const langs = languages.state === 'ready' ? languages.languages : [];
  return (
    <fieldset className="exp-tasks">
      <legend>Tasks</legend>
      <label>
        <input type="checkbox" checked={udhr} disabled={busy} onChange={(e) => setExp({ expUdhr: e.target.checked })} /> UDHR sentence continuation (bundled)
      </label>
      {bundled.length > 0 && (
        <label>
          <input type="checkbox" checked={bundledOn} disabled={busy} onChange={(e) => setExp({ expBundled: e.target.checked })} /> Bundled tasks: {[...new Set(bundled.map((b) => b.name))].join(', ')} (in{' '}
          {new Set(bundled.map((b) => b.language)).size} languages)
        </label>
      )}
      <HubTaskChooser />
      <div className="row">
        <label className="button-like small">
          Experiment task files
          <input
            type="file"
            multiple
            accept=".jsonl,.json,.txt,.tsv"
            className="visually-hidden"
            onChange={(e) => {
              if (e.target.files?.length) void addExpTaskFiles([...e.target.files], langs[0] ?? '');
              e.target.value = '';
            }}
          />
        </label>
        <span className="hint">XCOPA, XStoryCloze, XNLI, PAWS-X, XWinograd, Belebele, JSONL; tag each with its language.</span>
      </div>
      {files.length > 0 && (
        <ul className="exp-task-files" aria-label="Experiment task files">
          {files.map((f) => (
            <li key={f.id}>
              <span>
                {f.name} <span className="hint">({fmtBytes(f.bytes)})</span>
              </span>
              <select aria-label={`Format of ${f.name}`} value={f.format} disabled={busy} onChange={(e) => update(f.id, { format: e.target.value as TaskName })}>
                {TASK_NAMES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
              <input aria-label={`Language of task ${f.name}`} value={f.language} size={5} disabled={busy} onChange={(e) => update(f.id, { language: e.target.value.trim() })} />
              <button type="button" className="small" disabled={busy} onClick={() => remove(f.id)} aria-label={`Remove task ${f.name}`}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
