import type { CSSProperties } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { useAppStore, type TryCheck, type TryOutput } from '../../../store';
import { checkTryIt, generateTryIt, openTryExport } from '../actions';
import { fmtBytes } from '../../../../common/format';
import { Messages } from '../../../components/Messages/Messages';
import { OpProgress } from '../../../components/OpProgress/OpProgress';
import { BUNDLED_PROMPTS } from '../prompts';
import './TryItPanel.css';

/**
 * "Try it": the chosen models continue one prompt side by side in transformers.js on onnxruntime-web
 * (from PolyPrune's ONNX export, made in memory), streaming, with each token's log-probability as a
 * faint underline; "Check" compares the runtime's logits of the prompt with PolyPrune's engine.
 */
export function TryItPanel() {
  const s = useAppStore(
    useShallow((st) => ({
      models: st.models,
      exports: st.tryExports,
      noGpu: st.gpu.state === 'unavailable',
      chosen: st.tryModelIds,
      prompt: st.tryPrompt,
      d: st.tryDecode,
      device: st.tryDevice,
      note: st.tryRuntimeNote,
      busy: st.running !== null,
      languages: st.languages,
    })),
  );
  const { setTryModelIds, setTryPrompt, setTryDecode, setTryDevice } = useAppStore.getState();
  const isChosen = (id: string): boolean => s.chosen === null || s.chosen.includes(id);
  const toggle = (id: string, on: boolean): void => {
    const cur = s.chosen ?? [...s.models.map((m) => m.id), ...s.exports.map((e) => e.id)];
    setTryModelIds(on ? [...cur.filter((x) => x !== id), id] : cur.filter((x) => x !== id));
  };
  const langs = Object.keys(BUNDLED_PROMPTS);
  const num = (v: number): number | '' => (Number.isFinite(v) ? v : '');
  return (
    <section className="panel tryit-panel" aria-labelledby="tryit-heading">
      <h2 id="tryit-heading">Try it</h2>
      <p className="hint tryit-intro">
        The models continue your prompt side by side. Each runs from its ONNX export, made in memory from the loaded weights, in transformers.js on onnxruntime-web (WebGPU, or wasm
        where WebGPU is missing). An empty prompt starts from the BOS token alone. The faint line under each token shows its probability under the model (green likely, red
        unlikely); hover a token for its log-probability.
      </p>
      {s.noGpu && (
        <p className="notice tryit-nogpu" role="note" data-testid="tryit-nogpu">
          This browser has no usable WebGPU, so PolyPrune&apos;s engine cannot load, prune or export a model here, and Check (which compares with the engine) cannot run. Try it can
          still run an ONNX export on onnxruntime-web&apos;s wasm backend (CPU): open the .zip of one (Export → ONNX in a browser with WebGPU, or{' '}
          <code>polyprune export --format onnx</code> zipped).
        </p>
      )}
      <div className="tryit-form">
        <fieldset className="tryit-models">
          <legend>Models</legend>
          {s.models.length === 0 && s.exports.length === 0 && <span className="hint">{s.noGpu ? 'Open an ONNX export below.' : 'Load a model first, or open an ONNX export below.'}</span>}
          {s.models.map((m) => (
            <label key={m.id}>
              <input type="checkbox" checked={isChosen(m.id)} onChange={(e) => toggle(m.id, e.target.checked)} /> {m.name}
              {m.pruning ? <span className="hint"> (pruned)</span> : null}
            </label>
          ))}
          {s.exports.map((e) => (
            <label key={e.id}>
              <input type="checkbox" checked={isChosen(e.id)} onChange={(ev) => toggle(e.id, ev.target.checked)} /> {e.name}
              <span className="hint">
                {' '}
                (ONNX export{e.pruned ? ', pruned' : ''}, {fmtBytes(e.bytes)})
              </span>
            </label>
          ))}
          <label className="tryit-open">
            Open an ONNX export (.zip){' '}
            <input
              type="file"
              accept=".zip,application/zip"
              disabled={s.busy}
              onChange={(e) => {
                const f = e.target.files?.[0];
                e.target.value = '';
                if (f) void openTryExport(f);
              }}
            />
          </label>
        </fieldset>
        <fieldset className="tryit-decode">
          <legend>Decoding</legend>
          <div className="row">
            <label>
              <input type="radio" name="tryit-mode" checked={s.d.mode === 'greedy'} onChange={() => setTryDecode({ mode: 'greedy' })} /> Greedy
            </label>
            <label>
              <input type="radio" name="tryit-mode" checked={s.d.mode === 'sample'} onChange={() => setTryDecode({ mode: 'sample' })} /> Sampling
            </label>
            <label>
              Max new tokens <input type="number" min={1} step={1} value={num(s.d.maxNewTokens)} onChange={(e) => setTryDecode({ maxNewTokens: e.target.valueAsNumber })} />
            </label>
          </div>
          <label>
            Runtime{' '}
            <select value={s.device} onChange={(e) => setTryDevice(e.target.value as 'auto' | 'webgpu' | 'wasm')}>
              <option value="auto">automatic</option>
              <option value="webgpu">WebGPU</option>
              <option value="wasm">wasm (CPU)</option>
            </select>
          </label>
          {s.d.mode === 'sample' && (
            <div className="row tryit-sampling">
              <label>
                Temperature <input type="number" min={0} step={0.1} value={num(s.d.temperature)} onChange={(e) => setTryDecode({ temperature: e.target.valueAsNumber })} />
              </label>
              <label>
                Top-k <input type="number" min={0} step={1} value={num(s.d.topK)} onChange={(e) => setTryDecode({ topK: e.target.valueAsNumber })} />
              </label>
              <label>
                Top-p <input type="number" min={0} max={1} step={0.05} value={num(s.d.topP)} onChange={(e) => setTryDecode({ topP: e.target.valueAsNumber })} />
              </label>
              <label>
                Seed <input type="number" min={0} step={1} value={num(s.d.seed)} onChange={(e) => setTryDecode({ seed: e.target.valueAsNumber })} />
              </label>
            </div>
          )}
        </fieldset>
      </div>
      <label className="tryit-prompt">
        Prompt
        <textarea rows={2} value={s.prompt} placeholder="Empty: the model starts from BOS" onChange={(e) => setTryPrompt(e.target.value)} />
      </label>
      <div className="row tryit-langs" role="group" aria-label="Bundled prompts">
        <span className="hint">Bundled prompts:</span>
        {langs.map((l) => (
          <button type="button" key={l} className={s.languages.state === 'ready' && !s.languages.languages.includes(l) ? 'tryit-lang other' : 'tryit-lang'} title={BUNDLED_PROMPTS[l]} onClick={() => setTryPrompt(BUNDLED_PROMPTS[l])}>
            {l}
          </button>
        ))}
      </div>
      <div className="row actions">
        <button type="button" className="primary" disabled={s.busy || s.models.length + s.exports.length === 0} onClick={() => void generateTryIt()}>
          Generate
        </button>
        <button type="button" disabled={s.busy || s.models.length === 0} title={s.models.length === 0 ? 'Check compares with the engine: it needs a model loaded in the engine (WebGPU).' : undefined} onClick={() => void checkTryIt()}>
          Check
        </button>
        {s.note && (
          <span className="hint tryit-runtime" data-testid="tryit-runtime">
            {s.note}
          </span>
        )}
      </div>
      <OpProgress panel="tryit" />
      <Messages panel="tryit" />
      <TryOutputs />
      <TryChecks />
    </section>
  );
}

function TryOutputs() {
  const outputs = useAppStore((s) => s.tryOutputs);
  if (!outputs.length) return null;
  return (
    <div className="tryit-outputs" role="list" aria-label="Continuations">
      {outputs.map((o) => (
        <OutputColumn key={o.modelId} o={o} />
      ))}
    </div>
  );
}

const STATUS: Record<TryOutput['status'], string> = {
  waiting: 'waiting',
  exporting: 'exporting to ONNX…',
  loading: 'loading in onnxruntime-web…',
  generating: 'generating…',
  done: 'done',
  stopped: 'stopped',
  failed: 'failed',
};

/** Underline colour of a token from its probability: green when likely, red when not. */
function tokenStyle(logprob: number): CSSProperties {
  const p = Math.exp(logprob);
  return { ['--tok-hue' as string]: String(Math.round(120 * p)), ['--tok-alpha' as string]: (0.25 + 0.35 * (1 - p)).toFixed(2) };
}

function OutputColumn({ o }: { o: TryOutput }) {
  const ids = o.tokens.map((t) => t.id).join(',');
  const text = o.tokens.map((t) => t.text).join('');
  return (
    <article className="tryit-output" role="listitem" data-model-id={o.modelId} data-status={o.status} data-prompt-ids={o.promptIds.join(',')} data-ids={ids} data-text={text} aria-label={`${o.modelName} continuation`}>
      <header>
        <strong>{o.modelName}</strong>
        <span className="hint">
          {' '}
          {o.pruned ? 'pruned' : 'dense'}
          {o.device ? ` · ${o.device}` : ''} · {STATUS[o.status]}
          {o.tokens.length ? ` · ${o.tokens.length} tokens` : ''}
        </span>
      </header>
      <p className="tryit-text">
        <span className="tryit-prompt-text">{o.prompt}</span>
        {o.tokens.map((t, i) => (
          <span key={i} className="tryit-token" style={tokenStyle(t.logprob)} title={`token ${t.id}: log p = ${t.logprob.toFixed(3)} (p = ${Math.exp(t.logprob).toPrecision(3)})`}>
            {t.text}
          </span>
        ))}
        {o.status === 'generating' && <span className="tryit-caret" aria-hidden="true" />}
      </p>
      {o.note && <p className="hint">{o.note}</p>}
    </article>
  );
}

function TryChecks() {
  const checks = useAppStore((s) => s.tryChecks);
  if (!checks.length) return null;
  return (
    <div>
      {/* the title outside the scroller, so a phone reads it whole while the table scrolls */}
      <p className="tryit-checks-title" id="tryit-checks-title">
        Check: the runtime&apos;s logits of the prompt against PolyPrune&apos;s engine
      </p>
      <div className="tryit-checks-scroll">
        <table className="tryit-checks" aria-labelledby="tryit-checks-title">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Runtime</th>
              <th scope="col">Tokens</th>
              <th scope="col">Largest |difference|</th>
              <th scope="col">Largest |logit|</th>
              <th scope="col">Relative</th>
            </tr>
          </thead>
          <tbody>
            {checks.map((c) => (
              <CheckRow key={c.modelId} c={c} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function CheckRow({ c }: { c: TryCheck }) {
  const ok = c.relative < 1e-4;
  return (
    <tr data-model-id={c.modelId} data-relative={String(c.relative)}>
      <td>{c.modelName}</td>
      <td>{c.device}</td>
      <td>{c.tokens}</td>
      <td>{Number.isFinite(c.maxAbsDiff) ? c.maxAbsDiff.toExponential(2) : 'not finite'}</td>
      <td>{Number.isFinite(c.maxAbsLogit) ? c.maxAbsLogit.toFixed(3) : '—'}</td>
      <td className={ok ? 'tryit-ok' : 'tryit-bad'}>
        {Number.isFinite(c.relative) ? c.relative.toExponential(2) : 'not finite'} {ok ? '(the same model, below 1e-4)' : '(differs: above 1e-4)'}
      </td>
    </tr>
  );
}
