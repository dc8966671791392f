/**
 * Calibration sources: files dropped anywhere on the page or picked with "Calibration files", the
 * bundled calibration text of a language, and mixes of sources. Files are read from their start
 * only (capped, Blob.slice), checked, parsed and their language identified; tokens are counted in
 * the engine with the active model's tokenizer.
 */
import { DEFAULT_GEN_CALIBRATION, TASK_NAMES, genSourceName, type TaskName } from '../../../engine';
import { previewOf, readSource } from '../../../calib/sources';
import { calibTextUrl, hubEndpoint } from '../../paths';
import { hubCorpusText } from '../../../engine';
import { toIso6391 } from '../../../common/languages';
import { hubToken } from '../../features/model/hubToken';
import type { CalibSource } from '../experiment/experimentSlice';
import { bundledText, errorText, getEngine, runOp, store } from '../../store/actions/core';
import type { Panel } from '../../store/messagesSlice';
import { loadModel, onModelLoaded } from '../../features/model/actions';

let sourceCounter = 0;
export const newId = (prefix: string): string => `${prefix}${++sourceCounter}`;

/** Characters tokenized to count a source's tokens; a longer text's count is extrapolated from them. */
export const TOKEN_COUNT_CHARS = 256 * 1024;

/**
 * Count a source's tokens with the active model's tokenizer (when a model is loaded). Only the first
 * TOKEN_COUNT_CHARS characters are tokenized (tokenizing megabytes would hold up the engine for
 * everything else); a longer text's count is an estimate, shown with "≈".
 */
export async function countTokens(id: string): Promise<void> {
  const s = store();
  const src = s.sources.find((x) => x.id === id);
  const modelId = s.activeModelId;
  if (!src || !modelId || src.origin === 'mix' || !src.text) return;
  try {
    const long = src.text.length > TOKEN_COUNT_CHARS;
    const ids = await getEngine().tokenize(modelId, long ? src.text.slice(0, TOKEN_COUNT_CHARS) : src.text);
    store().updateSource(id, { tokens: long ? Math.round((ids.length * src.text.length) / TOKEN_COUNT_CHARS) : ids.length, tokensEstimated: long });
  } catch {
    // The count is informative; calibration reports real problems with the text itself.
  }
}

/** Count the tokens of every source not counted yet (after a model has loaded). */
export async function countAllTokens(): Promise<void> {
  for (const s of store().sources) if (s.tokens === null && s.origin !== 'mix') await countTokens(s.id);
}
onModelLoaded(() => void countAllTokens());

/**
 * Add user files as calibration sources; each bad file gets its own message in `panel` (the
 * Experiment panel for its file picker and drop zone; the page's notices for a drop anywhere, where
 * the good drop's notice goes too).
 */
export async function addSourceFiles(files: File[], panel: Panel = 'experiment'): Promise<CalibSource[]> {
  const added: CalibSource[] = [];
  for (const f of files) {
    try {
      const p = await readSource(f);
      const src: CalibSource = {
        id: newId('src'),
        name: p.name,
        origin: 'file',
        format: p.format,
        ...(p.field ? { field: p.field } : {}),
        fileBytes: p.fileBytes,
        bytes: p.bytes,
        capped: p.capped,
        text: p.text,
        preview: p.preview,
        tokens: null,
        language: p.guess?.language ?? null,
        detected: p.guess?.language ?? null,
        ...(p.guess ? { confidence: p.guess.confidence, alternatives: p.guess.alternatives } : {}),
        skipped: p.skipped,
        selected: true,
      };
      store().addSource(src);
      added.push(src);
      if (!src.language) {
        store().pushMessage({ panel, level: 'info', text: `Could not identify the language of '${f.name}'. Choose its language in the list of calibration sources.` });
      }
      void countTokens(src.id);
    } catch (e) {
      store().pushMessage({ panel, level: 'error', code: 'CALIBRATION_INVALID', text: errorText(e) });
    }
  }
  return added;
}

/** Add the bundled calibration text of a language as a source (one click). */
export async function addBundledSource(language: string): Promise<void> {
  if (store().sources.some((s) => s.origin === 'bundled' && s.language === language)) return;
  try {
    const text = await bundledText(calibTextUrl(language), `Calibration text '${language}'`);
    const bytes = new TextEncoder().encode(text).length;
    const src: CalibSource = {
      id: newId('src'),
      name: `bundled ${language}`,
      origin: 'bundled',
      fileBytes: bytes,
      bytes,
      capped: false,
      text,
      preview: previewOf(text),
      tokens: null,
      language,
      detected: language,
      skipped: 0,
      selected: true,
    };
    store().addSource(src);
    void countTokens(src.id);
  } catch (e) {
    store().pushMessage({ panel: 'experiment', level: 'error', code: 'FILE_NOT_FOUND', text: errorText(e) });
  }
}

/** A mix of the given sources with weights (proportions of the calibration windows). */
export function addMixSource(parts: { id: string; weight: number }[]): void {
  const s = store();
  const named = parts.map((p) => ({ ...p, src: s.sources.find((x) => x.id === p.id && x.origin !== 'mix') }));
  if (named.length < 2 || named.some((p) => !p.src)) {
    s.pushMessage({ panel: 'experiment', level: 'error', code: 'BAD_ARGUMENT', text: 'A mix needs at least two calibration sources (files or bundled texts, not other mixes).' });
    return;
  }
  if (named.some((p) => !(Number.isFinite(p.weight) && p.weight > 0))) {
    s.pushMessage({ panel: 'experiment', level: 'error', code: 'BAD_ARGUMENT', text: 'Each part of a mix needs a proportion greater than 0 (e.g. 1 and 1 for half and half).' });
    return;
  }
  const total = named.reduce((a, p) => a + p.weight, 0);
  const name = `mix ${named.map((p) => `${p.src!.language ?? p.src!.name} ${Math.round((100 * p.weight) / total)} %`).join(' + ')}`;
  const langs = [...new Set(named.map((p) => p.src!.language))];
  s.addSource({
    id: newId('mix'),
    name,
    origin: 'mix',
    fileBytes: named.reduce((a, p) => a + p.src!.fileBytes, 0),
    bytes: named.reduce((a, p) => a + p.src!.bytes, 0),
    capped: named.some((p) => p.src!.capped),
    text: '',
    preview: named.map((p) => p.src!.name).join(' + '),
    tokens: null,
    language: langs.length === 1 ? langs[0] : 'mix',
    detected: langs.length === 1 ? langs[0] : 'mix',
    skipped: 0,
    parts: parts.map(({ id, weight }) => ({ id, weight })),
    selected: true,
  });
}

/** The task format a dropped task file's name suggests (xcopa.sw.jsonl, belebele_swh_Latn.jsonl, ...). */
export function guessTaskFormat(name: string): TaskName {
  const lower = name.toLowerCase();
  return (TASK_NAMES as readonly TaskName[]).find((t) => t !== 'jsonl' && lower.includes(t)) ?? 'jsonl';
}

let taskCounter = 0;

/** Add a task file to the experiment, tagged with a language (editable in the panel). */
export async function addExpTaskFiles(files: File[], language: string): Promise<void> {
  for (const f of files) {
    if (f.size === 0) {
      store().pushMessage({ panel: 'experiment', level: 'error', code: 'TASK_INVALID', text: `Task file '${f.name}' is empty.` });
      continue;
    }
    try {
      const text = await f.text();
      store().addExpTaskFile({ id: `task${++taskCounter}`, name: f.name, bytes: f.size, text, format: guessTaskFormat(f.name), language });
    } catch (e) {
      store().pushMessage({ panel: 'experiment', level: 'error', code: 'TASK_INVALID', text: `Could not read '${f.name}': ${errorText(e)}` });
    }
  }
}

const MODEL_FILE = /^(config\.json|tokenizer\.json|tokenizer_config\.json|generation_config\.json|special_tokens_map\.json|.*\.safetensors(\.index\.json)?)$/;

/**
 * Files dropped anywhere outside a drop zone: model files load as a model, text files become
 * calibration sources; anything else is named in a message. The page never navigates away.
 */
export async function dropAnywhere(files: File[], folderName?: string): Promise<void> {
  if (!files.length) return;
  const modelFiles = files.filter((f) => MODEL_FILE.test(f.name));
  if (modelFiles.some((f) => f.name.endsWith('.safetensors')) || files.some((f) => f.name === 'config.json')) {
    store().pushMessage({ panel: 'app', level: 'info', text: `Dropped ${folderName ? `folder ${folderName}` : `${files.length} file${files.length === 1 ? '' : 's'}`}: loading it as a model (see the Model panel).` });
    const seen = new Set(store().messages.map((m) => m.id));
    if (!(await loadModel({ kind: 'files', files, name: folderName ?? 'dropped files' }))) {
      // Why it did not load, where the drop's notice is (the Model panel has it too).
      for (const m of store().messages) if (m.panel === 'model' && m.level === 'error' && !seen.has(m.id)) store().pushMessage({ ...m, panel: 'app' });
    }
    return;
  }
  const added = await addSourceFiles(files, 'app');
  if (added.length) {
    store().pushMessage({
      panel: 'app',
      level: 'info',
      text: `Added ${added.map((a) => `'${a.name}' (${a.language ?? 'language?'})`).join(', ')} as calibration source${added.length === 1 ? '' : 's'} in the Experiment panel.`,
    });
  }
}

/** UTF-8 bytes of Hub text for n windows of seqlen tokens: about 4 bytes a token, at least 16 KiB (as the CLI). */
export function hubTextBytes(nsamples: number, seqlen: number): number {
  return Math.max(16 * 1024, (Number.isFinite(nsamples) ? nsamples : 16) * (Number.isFinite(seqlen) ? seqlen : 64) * 4);
}

/**
 * Calibration text from a Hub corpus (`mc4`, `fineweb2`, `wikipedia`) for each language, as many
 * bytes as the experiment's windows need, documents in the corpus's order from its start; each
 * language becomes one source named by the spec and commit (`hub:mc4:de@1ddc917116b7`).
 */
export async function addHubSources(corpus: string, languages: string[]): Promise<void> {
  const s = store();
  const bytes = hubTextBytes(s.expNsamples, s.expSeqlen);
  for (const language of languages) {
    const spec = `${corpus}:${language}`;
    if (store().sources.some((x) => x.name.startsWith(`hub:${spec}@`))) {
      store().pushMessage({ panel: 'experiment', level: 'info', text: `${spec} is already a calibration source.` });
      continue;
    }
    try {
      store().pushMessage({ panel: 'experiment', level: 'info', text: `Reading ${spec} from the Hugging Face Hub…` });
      const t = await hubCorpusText(spec, bytes, {
        endpoint: hubEndpoint(),
        token: hubToken() || undefined,
        onCacheFull: (m) => store().pushMessage({ panel: 'experiment', level: 'info', text: m }),
      });
      const p = t.provenance;
      const src: CalibSource = {
        id: newId('src'),
        name: `hub:${p.spec}@${p.sha.slice(0, 12)}`,
        origin: 'file',
        format: 'hub',
        fileBytes: p.bytesRead,
        bytes: p.textBytes,
        capped: false,
        text: t.text,
        preview: previewOf(t.text),
        tokens: null,
        language: /^[a-z]{3}_[A-Z][a-z]{3}$/.test(language) ? toIso6391(language.slice(0, 3)) : language.replace(/^\d{8}\./, ''),
        detected: null,
        skipped: 0,
        selected: true,
      };
      store().addSource(src);
      store().pushMessage({
        panel: 'experiment',
        level: 'info',
        text: `${p.spec}: ${p.documents} documents of ${p.dataset}@${p.sha.slice(0, 12)} (${p.files.map((f) => f.file).join(', ')}), ${p.textBytes.toLocaleString('en-US')} bytes of text, ${t.cached ? 'from the browser cache' : `${p.bytesRead.toLocaleString('en-US')} bytes downloaded`}.`,
      });
      void countTokens(src.id);
    } catch (e) {
      store().pushMessage({ panel: 'experiment', level: 'error', code: 'FETCH_FAILED', text: errorText(e) });
    }
  }
}

/**
 * "Generate with the model": the active model writes a calibration source itself (docs/generate.md)
 * from a few words of `language` (or its BOS token alone, prompt null): as many windows as the
 * experiment draws (its windows x window length in new tokens), with the sampling and perplexity
 * filter of Ji et al. (ICLR 2025), seed 0. Progress and Cancel in the Experiment panel.
 */
export async function generateSource(language: string, prompt: string | null): Promise<void> {
  const s = store();
  const model = s.models.find((m) => m.id === s.activeModelId);
  if (!model) {
    s.pushMessage({ panel: 'experiment', level: 'error', code: 'BAD_ARGUMENT', text: 'Load a model first: the model writes the text.' });
    return;
  }
  const name = genSourceName({ language, prompt });
  if (s.sources.some((x) => x.name === name && x.generated?.model === model.sha256)) {
    s.pushMessage({ panel: 'experiment', level: 'info', text: `${name} is already a calibration source.` });
    return;
  }
  const seqlen = Math.min(s.expSeqlen, model.maxPositionEmbeddings - 16);
  const g = await runOp('experiment', `Generating ${name} with ${model.name}`, (opts) =>
    getEngine().generateCalibration(model.id, { language, prompt, windows: s.expNsamples, tokens: seqlen, seed: 0, ...DEFAULT_GEN_CALIBRATION }, opts),
  );
  if (!g) return;
  const id = newId('src');
  store().addSource({
    id,
    name,
    origin: 'file',
    format: 'generated',
    fileBytes: g.bytes,
    bytes: g.bytes,
    capped: false,
    text: g.text,
    preview: previewOf(g.text),
    tokens: null,
    language,
    detected: null,
    skipped: 0,
    selected: true,
    generated: g.generated,
  });
  store().pushMessage({ panel: 'experiment', level: 'info', text: `${name}: ${model.name} wrote ${g.written} windows of ${seqlen} tokens and kept the ${g.generated.windows} it finds most likely (perplexity ${g.perplexity.toFixed(2)}); ${g.bytes.toLocaleString('en-US')} bytes, SHA-256 ${g.sha256.slice(0, 12)}…` });
  void countTokens(id);
}
