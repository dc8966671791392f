import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useAppStore } from '../../store';
import { loadModel, reportError } from '../../store/actions';
import { DEFAULT_MODEL_DIR } from '../../paths';
import { Messages } from '../Messages/Messages';
import { OpProgress } from '../OpProgress/OpProgress';
import { ModelSummaryView } from '../ModelSummaryView/ModelSummaryView';
import { WeightCachePanel } from '../WeightCachePanel/WeightCachePanel';
import { checkModelFiles, filesFromDrop, filesFromInput, type PickedFiles } from './dropFiles';
import './ModelPanel.css';

/** Load a model (bundled, by URL, or dropped files) and show the loaded ones. */
export function ModelPanel() {
  const busy = useAppStore((s) => s.running !== null);
  const modelUrl = useAppStore((s) => s.modelUrl);
  const setModelUrl = useAppStore((s) => s.setModelUrl);
  const pushMessage = useAppStore((s) => s.pushMessage);
  const [dragging, setDragging] = useState(false);
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

  const onSubmitUrl = (e: FormEvent): void => {
    e.preventDefault();
    void loadModel({ kind: 'url', url: modelUrl });
  };

  const onDrop = (e: DragEvent): void => {
    e.preventDefault();
    setDragging(false);
    if (busy) return;
    filesFromDrop(e.dataTransfer).then(loadPicked, (err: unknown) => reportError('model', err));
  };

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
          <p className="hint">The folder that holds config.json, tokenizer.json and *.safetensors (the server must allow CORS), or a public Hugging Face model id such as CohereForAI/aya-23-8B.</p>
        </form>
        <div
          className={`model-source drop-zone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
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
                onChange={(e) => {
                  if (e.target.files?.length) loadPicked(filesFromInput(e.target.files));
                  e.target.value = '';
                }}
              />
            </label>
            <label className="button-like">
              Choose folder…
              <input
                ref={dirInput}
                type="file"
                className="visually-hidden"
                disabled={busy}
                onChange={(e) => {
                  if (e.target.files?.length) loadPicked(filesFromInput(e.target.files));
                  e.target.value = '';
                }}
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
