import { useEffect, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useAppStore } from '../../../store';
import { hubToken, hubTokenRemembered, loadModel, reportError, setHubToken } from '../../../store/actions';
import { DEFAULT_MODEL_DIR } from '../../../paths';
import { Messages } from '../../../components/Messages/Messages';
import { OpProgress } from '../../../components/OpProgress/OpProgress';
import { ModelSummaryView } from '../ModelSummaryView/ModelSummaryView';
import { WeightCachePanel } from '../WeightCachePanel/WeightCachePanel';
import { useDropZone } from '../../../hooks/useDropZone';
import { checkModelFiles, filesFromDrop, filesFromInput, type PickedFiles } from './dropFiles';
import './ModelPanel.css';

/** Load a model (bundled, by URL, or dropped files) and show the loaded ones. */
export function ModelPanel() {
  const busy = useAppStore((s) => s.running !== null);
  const modelUrl = useAppStore((s) => s.modelUrl);
  const setModelUrl = useAppStore((s) => s.setModelUrl);
  const pushMessage = useAppStore((s) => s.pushMessage);
  // The Hub token is held outside the store (see store/actions/hubToken.ts); this mirrors it for the inputs.
  const [token, setToken] = useState(hubToken);
  const [remember, setRemember] = useState(hubTokenRemembered);
  const [storeFailed, setStoreFailed] = useState(false);
  const updateToken = (value: string, keep: boolean): void => {
    setToken(value);
    setRemember(keep && value.trim() !== '');
    setStoreFailed(!setHubToken(value, keep));
  };
  const dirInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    // `webkitdirectory` is not a React prop; set it on the element.
    if (dirInput.current) dirInput.current.webkitdirectory = true;
  }, []);

  const loadPicked = (picked: PickedFiles): void => {
    const problem = checkModelFiles(picked.files);
    if (problem) pushMessage({ panel: 'model', level: 'error', code: 'FILE_NOT_FOUND', text: problem });
    else void loadModel({ kind: 'files', files: picked.files, name: picked.name });
  };

  /** Files or a folder from the pickers; the input is cleared so the same choice can be made again. */
  const onPicked = (e: ChangeEvent<HTMLInputElement>): void => {
    if (e.target.files?.length) loadPicked(filesFromInput(e.target.files));
    e.target.value = '';
  };

  const onSubmitUrl = (e: FormEvent): void => {
    e.preventDefault();
    void loadModel({ kind: 'url', url: modelUrl });
  };

  const { dragging, handlers: drop } = useDropZone((data) => {
    if (!busy) filesFromDrop(data).then(loadPicked, (err: unknown) => reportError('model', err));
  });

  return (
    <section className="panel model-panel" aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <div className="model-sources">
        <div className="model-source">
          <button type="button" className="primary" disabled={busy} onClick={() => void loadModel({ kind: 'bundled' })}>
            Load the bundled model
          </button>
          <p className="hint">
            A small multilingual model shipped with this page (<code>{DEFAULT_MODEL_DIR}</code>).
          </p>
        </div>
        <form className="model-source model-url" onSubmit={onSubmitUrl}>
          <label htmlFor="model-url">Model folder URL</label>
          <div className="row">
            <input
              id="model-url"
              type="text"
              inputMode="url"
              placeholder="https://.../model/ or a Hugging Face id: org/name[@revision]"
              value={modelUrl}
              onChange={(e) => setModelUrl(e.target.value)}
              spellCheck={false}
            />
            <button type="submit" disabled={busy}>
              Load from URL
            </button>
          </div>
          <p className="hint">The folder that holds config.json, tokenizer.json and *.safetensors (the server must allow CORS), or a Hugging Face model id such as CohereForAI/aya-23-8B.</p>
          <label htmlFor="hf-token">Hugging Face access token (optional, for gated or private models)</label>
          <div className="row">
            <input
              id="hf-token"
              type="password"
              autoComplete="off"
              placeholder="hf_..."
              value={token}
              onChange={(e) => updateToken(e.target.value, remember)}
              spellCheck={false}
            />
            <label className="inline-check">
              <input type="checkbox" checked={remember} disabled={token.trim() === ''} onChange={(e) => updateToken(token, e.target.checked)} />
              Remember in this browser
            </label>
          </div>
          <p className="hint">
            Sent only to the Hugging Face Hub, with the downloads of a model id. It is kept in this tab&apos;s memory and never written into history, share links or result records.
            {remember ? ' Remembered: stored in this browser’s localStorage, readable by anyone who uses this browser profile, until you untick the box.' : ''}
            {storeFailed ? ' This browser refused to store it; it is kept for this tab only.' : ''}
          </p>
        </form>
        <div className={`model-source drop-zone${dragging ? ' dragging' : ''}`} {...drop}>
          <p>
            <strong>Drop a model folder</strong> or its files here (config.json, tokenizer.json, *.safetensors).
          </p>
          <div className="row">
            <label className="button-like">
              Choose files…
              <input
                type="file"
                multiple
                className="visually-hidden"
                disabled={busy}
                onChange={onPicked}
              />
            </label>
            <label className="button-like">
              Choose folder…
              <input
                ref={dirInput}
                type="file"
                className="visually-hidden"
                disabled={busy}
                onChange={onPicked}
              />
            </label>
          </div>
        </div>
      </div>
      <OpProgress panel="model" />
      <Messages panel="model" />
      <WeightCachePanel />
      <ModelSummaryView />
    </section>
  );
}
