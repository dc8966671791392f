/**
 * The "Try it" panel's actions: export each chosen model to ONNX in memory (the engine's exporter,
 * with its progress), load it in transformers.js on onnxruntime-web (WebGPU, wasm where WebGPU is
 * missing or fails), generate side by side with streaming, and "Check" the runtime's logits of the
 * prompt against PolyPrune's engine. The runtime code (runtime.ts) is imported on first use, so
 * transformers.js and onnxruntime-web stay out of the page's first load.
 */
import { unzipSync } from 'fflate';
import { PolyPruneError } from '../../../common/errors';
import type { ModelSummary, OpOptions } from '../../../engine';
import { errorText, getEngine, runOp, store } from '../../store/actions/core';
import { decodeProblem, logitDiff, newText } from './decoding';
import type { TryCheck, TryExport, TryOutput, TryToken } from './tryitSlice';

type Runtime = typeof import('./runtime');
type RuntimeModel = import('./runtime').RuntimeModel;

let runtimeModule: Promise<Runtime> | null = null;
function runtime(): Promise<Runtime> {
  runtimeModule ??= import('./runtime');
  runtimeModule.catch(() => {
    runtimeModule = null;
  });
  return runtimeModule;
}

/** Loaded runtime models by engine model id (with the content hash they were exported from). */
const loaded = new Map<string, { sha256: string; rt: RuntimeModel }>();

/** The models the panel runs: the ones chosen, or every loaded model. */
export function tryModels(): ModelSummary[] {
  const s = store();
  return s.tryModelIds === null ? s.models : s.models.filter((m) => s.tryModelIds!.includes(m.id));
}

/** The opened ONNX exports the panel runs: the ones chosen, or all. */
export function tryExports(): TryExport[] {
  const s = store();
  return s.tryModelIds === null ? s.tryExports : s.tryExports.filter((e) => s.tryModelIds!.includes(e.id));
}

/** The files of each opened export, by its id (bytes stay out of the store). */
const openedFiles = new Map<string, Map<string, Uint8Array>>();

/**
 * Open an ONNX export (the .zip of Export → ONNX, or of `polyprune export --format onnx` zipped) to
 * run it in onnxruntime-web without the engine: the way to try a model on a browser without WebGPU.
 */
export async function openTryExport(file: File): Promise<void> {
  const s = store();
  s.clearMessages('tryit');
  try {
    const files = unzipExport(new Uint8Array(await file.arrayBuffer()));
    if (!files.has('onnx/model.onnx')) throw new PolyPruneError('BAD_ARGUMENT', `${file.name} holds no onnx/model.onnx (an fp32 graph): make it with Export → ONNX or polyprune export --format onnx.`);
    if (!files.has('tokenizer.json')) throw new PolyPruneError('BAD_ARGUMENT', `${file.name} holds no tokenizer.json: Try it needs the export's tokenizer.`);
    const id = `export:${openedFiles.size + 1}`;
    openedFiles.set(id, files);
    s.addTryExport({ id, name: file.name.replace(/\.zip$/i, ''), bytes: file.size, pruned: files.has('pruning.json') });
  } catch (e) {
    const text = e instanceof PolyPruneError ? e.message : `${file.name} is not a zip of an ONNX export (${errorText(e).split('\n')[0]}): make it with Export → ONNX.`;
    s.pushMessage({ panel: 'tryit', level: 'error', code: e instanceof PolyPruneError ? e.code : 'BAD_ARGUMENT', text });
  }
}

/** An opened export in the runtime: loaded the first time, then kept (per device). */
async function ensureExportRuntime(e: TryExport, status: (s: TryOutput['status']) => void): Promise<RuntimeModel> {
  const rtm = await runtime();
  const device = await rtm.pickDevice(store().tryDevice);
  const have = loaded.get(e.id);
  store().setTryRuntimeNote(device.note);
  if (have && have.rt.device === device.device) return have.rt;
  if (have) {
    loaded.delete(e.id);
    await rtm.disposeRuntimeModel(have.rt).catch(() => undefined);
  }
  status('loading');
  // loadRuntimeModel takes the map (and may add a tokenizer_config.json): a copy, so a later load has it whole
  const rt = await rtm.loadRuntimeModel(e.id, new Map(openedFiles.get(e.id)), device.device).catch((err: unknown) => {
    throw new PolyPruneError('INTERNAL', `onnxruntime-web could not load ${e.name}: ${errorText(err).split('\n')[0]}`);
  });
  loaded.set(e.id, { sha256: e.id, rt });
  return rt;
}

/** Free the runtime sessions of models that are no longer loaded in the engine. */
async function forgetUnloaded(): Promise<void> {
  const ids = new Set([...store().models.map((m) => `${m.id}|${m.sha256}`), ...store().tryExports.map((e) => `${e.id}|${e.id}`)]);
  for (const [id, v] of loaded) {
    if (!ids.has(`${id}|${v.sha256}`)) {
      loaded.delete(id);
      await (await runtime()).disposeRuntimeModel(v.rt).catch(() => undefined);
    }
  }
}

/** The export's files by path inside the export folder (the zip may hold them under one top folder). */
function unzipExport(bytes: Uint8Array): Map<string, Uint8Array> {
  const entries = unzipSync(bytes);
  const config = Object.keys(entries).find((k) => k === 'config.json' || k.endsWith('/config.json'));
  if (config === undefined) throw new PolyPruneError('INTERNAL', 'The ONNX export has no config.json.');
  const prefix = config.slice(0, config.length - 'config.json'.length);
  const out = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(entries)) if (k.startsWith(prefix) && !k.endsWith('/')) out.set(k.slice(prefix.length), v);
  return out;
}

/** The model in the runtime: exported to ONNX in memory and loaded the first time, then kept. */
async function ensureRuntime(m: ModelSummary, opts: OpOptions, signal: AbortSignal, status: (s: TryOutput['status']) => void): Promise<RuntimeModel> {
  const rtm = await runtime();
  let device = await rtm.pickDevice(store().tryDevice);
  const have = loaded.get(m.id);
  if (have && have.sha256 === m.sha256 && have.rt.device === device.device) {
    store().setTryRuntimeNote(device.note);
    return have.rt;
  }
  if (have) {
    loaded.delete(m.id);
    await rtm.disposeRuntimeModel(have.rt).catch(() => undefined);
  }
  status('exporting');
  const blob = await getEngine().exportZip(m.id, { format: 'onnx', onnxVariants: ['fp32'] }, opts);
  if (signal.aborted) throw new PolyPruneError('CANCELLED', 'Cancelled.');
  const files = unzipExport(new Uint8Array(await blob.arrayBuffer()));
  status('loading');
  opts.onProgress?.({ kind: 'load', message: `Loading ${m.name} in onnxruntime-web`, done: 0, total: 1 });
  let rt: RuntimeModel;
  try {
    rt = await rtm.loadRuntimeModel(m.id, files, device.device);
  } catch (e) {
    if (device.device !== 'webgpu') throw new PolyPruneError('INTERNAL', `onnxruntime-web could not load the ONNX export of ${m.name}: ${errorText(e).split('\n')[0]}`);
    device = { device: 'wasm', note: `onnxruntime-web's WebGPU backend failed here (${errorText(e).split('\n')[0]}): it runs on wasm (CPU), which is slower.` };
    rt = await rtm.loadRuntimeModel(m.id, files, 'wasm');
  }
  store().setTryRuntimeNote(device.note);
  loaded.set(m.id, { sha256: m.sha256, rt });
  return rt;
}

/**
 * The prompt's ids as the engine's `generate` makes them: the model's BOS token, then the prompt's
 * tokens (no other special tokens); an empty prompt is BOS alone. Both runtimes get these ids.
 */
async function promptIdsOf(m: ModelSummary, prompt: string): Promise<number[]> {
  const ids = [...(m.bosTokenId !== undefined ? [m.bosTokenId] : []), ...(prompt ? await getEngine().tokenize(m.id, prompt) : [])];
  if (!ids.length) throw new PolyPruneError('BAD_ARGUMENT', `${m.name} has no BOS token to start from: give a prompt.`);
  return ids;
}

/** The models and settings are usable: else a one-line message in the panel. */
function precheck(): { models: ModelSummary[]; exports: TryExport[] } | null {
  const s = store();
  const models = tryModels();
  const exports = tryExports();
  if (!models.length && !exports.length) {
    s.pushMessage({ panel: 'tryit', level: 'error', code: 'BAD_ARGUMENT', text: s.models.length || s.tryExports.length ? 'Choose at least one model.' : 'Load a model first (or open an ONNX export).' });
    return null;
  }
  // an opened export's context and vocabulary are known once it is loaded: checked then, per model
  const context = models.length ? Math.min(...models.map((m) => m.maxPositionEmbeddings)) : Number.MAX_SAFE_INTEGER;
  const problem = decodeProblem(s.tryDecode, context, undefined, models.length ? Math.min(...models.map((m) => m.vocabSize)) : undefined);
  if (problem) {
    s.pushMessage({ panel: 'tryit', level: 'error', code: 'BAD_ARGUMENT', text: problem });
    return null;
  }
  return { models, exports };
}

/** Generate the continuation of the prompt with every chosen model, one after another, streaming. */
export async function generateTryIt(): Promise<void> {
  store().clearMessages('tryit');
  const chosen = precheck();
  if (!chosen) return;
  const s = store();
  const decode = s.tryDecode;
  const prompt = s.tryPrompt;
  const targets = [
    ...chosen.models.map((m) => ({ id: m.id, name: m.name, pruned: Boolean(m.pruning ?? m.prunedFrom), model: m as ModelSummary | null, exp: null as TryExport | null })),
    ...chosen.exports.map((e) => ({ id: e.id, name: e.name, pruned: e.pruned, model: null, exp: e as TryExport | null })),
  ];
  s.setTryOutputs(targets.map((t) => ({ modelId: t.id, modelName: t.name, pruned: t.pruned, device: null, prompt, promptIds: [], tokens: [], status: 'waiting' })));
  await runOp('tryit', 'Try it: generate', async (opts, signal) => {
    await forgetUnloaded();
    const rtm = await runtime();
    for (const [i, t] of targets.entries()) {
      const update = (f: (o: TryOutput) => TryOutput): void => store().updateTryOutput(t.id, f);
      store().setOpOverall(opts.opId, { done: i, total: targets.length, message: `${t.name}` });
      try {
        const setStatus = (status: TryOutput['status']): void => update((o) => ({ ...o, status }));
        const rt = t.model ? await ensureRuntime(t.model, opts, signal, setStatus) : await ensureExportRuntime(t.exp!, setStatus);
        // an engine model: the engine's ids; an opened export: its own tokenizer's, made the same way
        const ids = t.model ? await promptIdsOf(t.model, prompt) : rtm.runtimePromptIds(rt, prompt);
        if (!ids.length) throw new PolyPruneError('BAD_ARGUMENT', `${t.name} has no BOS token to start from: give a prompt.`);
        const info = t.model ? { context: t.model.maxPositionEmbeddings, vocab: t.model.vocabSize } : rtm.runtimeInfo(rt);
        const problem = decodeProblem(decode, info.context, ids.length, info.vocab);
        if (problem) throw new PolyPruneError('BAD_ARGUMENT', problem);
        update((o) => ({ ...o, device: rt.device, promptIds: ids, status: 'generating' }));
        const gen: number[] = [];
        let shown = '';
        let eos = false;
        await rtm.generateStream(rt, ids, decode, signal, (tok) => {
          gen.push(tok.id);
          eos = rt.eos.includes(tok.id);
          const piece = newText(rtm.decodeContinuation(rt, ids, gen), shown);
          if (piece !== null) shown += piece;
          const token: TryToken = { id: tok.id, text: piece ?? '', logprob: tok.logprob };
          update((o) => ({ ...o, tokens: [...o.tokens, token] }));
          opts.onProgress?.({ kind: 'eval', message: `${t.name}: tokens`, done: gen.length, total: decode.maxNewTokens });
        });
        update((o) => ({ ...o, status: 'done', note: eos ? 'stopped at the end-of-text token' : undefined }));
      } catch (e) {
        const cancelled = e instanceof PolyPruneError && e.code === 'CANCELLED';
        update((o) => ({ ...o, status: cancelled ? 'stopped' : 'failed', note: cancelled ? 'cancelled' : errorText(e).split('\n')[0] }));
        if (cancelled || signal.aborted) throw e;
        store().pushMessage({ panel: 'tryit', level: 'error', code: e instanceof PolyPruneError ? e.code : 'INTERNAL', text: `${t.name}: ${errorText(e).split('\n')[0]}` });
      }
    }
  });
}

/**
 * "Check": the runtime's logits of the prompt (with BOS) against the engine's for every chosen model:
 * the largest difference and the largest logit.
 */
export async function checkTryIt(): Promise<void> {
  const s = store();
  s.clearMessages('tryit');
  const models = tryModels();
  if (!models.length) {
    s.pushMessage({ panel: 'tryit', level: 'error', code: 'BAD_ARGUMENT', text: s.models.length ? 'Choose at least one model.' : 'Load a model first.' });
    return;
  }
  const prompt = s.tryPrompt;
  await runOp('tryit', 'Try it: check', async (opts, signal) => {
    await forgetUnloaded();
    const rtm = await runtime();
    const checks: TryCheck[] = [];
    store().setTryChecks([]);
    for (const [i, m] of models.entries()) {
      store().setOpOverall(opts.opId, { done: i, total: models.length, message: `${m.name}: check` });
      const rt = await ensureRuntime(m, opts, signal, () => undefined);
      const ids = await promptIdsOf(m, prompt);
      if (ids.length > m.maxPositionEmbeddings) throw new PolyPruneError('BAD_ARGUMENT', `The prompt is ${ids.length} tokens with BOS; the model's context is ${m.maxPositionEmbeddings} tokens: shorten the prompt.`);
      const ours = await getEngine().logits(m.id, Int32Array.from(ids));
      if (signal.aborted) throw new PolyPruneError('CANCELLED', 'Cancelled.');
      const theirs = await rtm.runtimeLogits(rt, ids);
      checks.push({ modelId: m.id, modelName: m.name, device: rt.device, tokens: ids.length, ...logitDiff(theirs, ours) });
      store().setTryChecks([...checks]);
    }
  });
}
