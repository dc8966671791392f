/**
 * transformers.js (`@huggingface/transformers`) on onnxruntime-web, loaded on first use with dynamic
 * `import()`, so the page's first load does not carry them. A model runs from PolyPrune's ONNX export
 * made in memory: the files are served to `AutoModelForCausalLM.from_pretrained` through
 * transformers.js' `env.fetch` (remote models are off; the "local" folder is answered from memory), and
 * onnxruntime-web's wasm file is the one vite copies into the build (`?url` import), so nothing is
 * fetched from a CDN or the Hub.
 */
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { PolyPruneError } from '../../../common/errors';
import { logSoftmax, pickToken, PyRandom } from '../../../engine';
import { samplingOf, type DecodeSettings } from './decoding';

type Tjs = typeof import('@huggingface/transformers');

/** Where the model runs: onnxruntime-web's WebGPU backend, or wasm (CPU). */
export type RuntimeDevice = 'webgpu' | 'wasm';

const PREFIX = 'polyprune-tryit';
/** In-memory files of each exported model, by runtime key (`polyprune-tryit/<key>`). */
const files = new Map<string, Map<string, Uint8Array>>();

let tjsPromise: Promise<Tjs> | null = null;

/** Import transformers.js and set it up for offline, in-memory use (once). */
export function loadTransformers(): Promise<Tjs> {
  tjsPromise ??= (async () => {
    const [tjs, wasm] = await Promise.all([import('@huggingface/transformers'), import('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url')]);
    const { env } = tjs;
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = '/';
    env.useBrowserCache = false;
    env.useWasmCache = false;
    env.useCustomCache = false;
    // Model files are answered from memory (404 for a file the export does not have: optional ones
    // are then skipped); nothing under the prefix reaches the network.
    const realFetch = env.fetch;
    env.fetch = ((input: string | URL, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input.href;
      const at = url.indexOf(`${PREFIX}/`);
      if (at < 0) return realFetch(input, init);
      const rest = url.slice(at + PREFIX.length + 1);
      const slash = rest.indexOf('/');
      const data = files.get(`${PREFIX}/${rest.slice(0, slash)}`)?.get(decodeURIComponent(rest.slice(slash + 1)));
      return Promise.resolve(data ? new Response(data as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(data.byteLength) } }) : new Response(null, { status: 404 }));
    }) as typeof env.fetch;
    const onnx = env.backends.onnx as { wasm?: { wasmPaths?: unknown; numThreads?: number; proxy?: boolean } };
    if (onnx.wasm) {
      onnx.wasm.wasmPaths = { wasm: new URL(wasm.default, location.href).href };
      // Threads need a cross-origin isolated page (SharedArrayBuffer); one thread works everywhere.
      onnx.wasm.numThreads = 1;
    }
    return tjs;
  })();
  tjsPromise.catch(() => {
    tjsPromise = null;
  });
  return tjsPromise;
}

/** Which backend the user asked for: automatic (WebGPU on a hardware adapter, else wasm), or one of them. */
export type DevicePreference = 'auto' | RuntimeDevice;

/** Software WebGPU adapters (SwiftShader, lavapipe, llvmpipe) run onnxruntime-web's many small kernels far slower than wasm. */
function softwareAdapter(a: GPUAdapter): string | null {
  const info = (a as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
  const name = [info?.vendor, info?.architecture, info?.description, info?.device].filter(Boolean).join(' ');
  if (/swiftshader|lavapipe|llvmpipe/i.test(name)) return name.trim();
  return info?.isFallbackAdapter ? name.trim() || 'a fallback adapter' : null;
}

/** The device transformers.js should use here, and what the panel says about it. */
export async function pickDevice(pref: DevicePreference): Promise<{ device: RuntimeDevice; note: string }> {
  if (pref === 'wasm') return { device: 'wasm', note: 'onnxruntime-web on wasm (CPU), as chosen.' };
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const noGpu = { device: 'wasm' as const, note: 'This browser has no WebGPU: onnxruntime-web runs on wasm (CPU) instead.' };
  if (!gpu) return noGpu;
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { device: 'wasm', note: 'WebGPU gave no adapter here: onnxruntime-web runs on wasm (CPU) instead.' };
  const soft = softwareAdapter(adapter);
  if (pref === 'auto' && soft) return { device: 'wasm', note: `WebGPU here is a software adapter (${soft}): onnxruntime-web runs on wasm (CPU), which is faster on it. Choose WebGPU to use it anyway.` };
  return { device: 'webgpu', note: `onnxruntime-web on WebGPU${soft ? ` (a software adapter: ${soft}, slow)` : ''}.` };
}

export interface RuntimeModel {
  key: string;
  device: RuntimeDevice;
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  eos: number[];
}

/** Load an in-memory export (paths relative to the export folder: config.json, onnx/model.onnx, ...). */
export async function loadRuntimeModel(key: string, exported: Map<string, Uint8Array>, device: RuntimeDevice): Promise<RuntimeModel> {
  const tjs = await loadTransformers();
  const id = `${PREFIX}/${key}`;
  // transformers.js reads tokenizer_config.json for the tokenizer class; a folder without one
  // (tokenizer.json alone) gets an empty one: the class then comes from tokenizer.json.
  if (!exported.has('tokenizer_config.json')) exported.set('tokenizer_config.json', new TextEncoder().encode('{}'));
  files.set(id, exported);
  try {
    const tokenizer = await tjs.AutoTokenizer.from_pretrained(id);
    const model = await tjs.AutoModelForCausalLM.from_pretrained(id, { dtype: 'fp32', device });
    const cfg = model.config as unknown as { eos_token_id?: number | number[] | null };
    const eos = cfg.eos_token_id;
    return { key, device, model, tokenizer, eos: eos === null || eos === undefined ? [] : Array.isArray(eos) ? eos : [eos] };
  } finally {
    // onnxruntime holds the session; the export's bytes are not needed any more.
    files.delete(id);
  }
}

/** What an export's config.json says: the model's context, vocabulary and BOS token (when it has one). */
export function runtimeInfo(rt: RuntimeModel): { context: number; vocab: number; bos?: number } {
  const cfg = rt.model.config as unknown as { max_position_embeddings?: number; vocab_size?: number; bos_token_id?: number | null };
  return { context: cfg.max_position_embeddings ?? Number.MAX_SAFE_INTEGER, vocab: cfg.vocab_size ?? Number.MAX_SAFE_INTEGER, ...(typeof cfg.bos_token_id === 'number' ? { bos: cfg.bos_token_id } : {}) };
}

/** The prompt's ids as the engine makes them (BOS, then the prompt's tokens, no other special tokens), from the export's own tokenizer. */
export function runtimePromptIds(rt: RuntimeModel, prompt: string): number[] {
  const bos = runtimeInfo(rt).bos;
  return [...(bos !== undefined ? [bos] : []), ...(prompt ? rt.tokenizer.encode(prompt, { add_special_tokens: false }) : [])];
}

async function idsTensor(ids: number[]): Promise<{ input_ids: Tensor; attention_mask: Tensor }> {
  const { Tensor } = await loadTransformers();
  return {
    input_ids: new Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]),
    attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  };
}

/** Logits (T, V) of the prompt in one forward pass of the runtime. */
export async function runtimeLogits(rt: RuntimeModel, ids: number[]): Promise<Float32Array> {
  const out = (await rt.model(await idsTensor(ids))) as { logits: Tensor };
  const data = out.logits.data as Float32Array;
  return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
}

export interface StreamedToken {
  id: number;
  /** log p(token | context) under the model (temperature 1, before top-k / top-p). */
  logprob: number;
}

/**
 * Generate with transformers.js' `generate` and a streamer: the next token is chosen by the
 * engine's `pickToken` in a logits processor (greedy, or seeded sampling: transformers.js' own sampler has
 * no seed and no top-p), which leaves only that token possible, so generate's greedy step takes it.
 * Stops at `maxNewTokens`, at EOS, or when `signal` is aborted.
 */
export async function generateStream(rt: RuntimeModel, ids: number[], s: DecodeSettings, signal: AbortSignal, onToken: (t: StreamedToken) => void): Promise<void> {
  const tjs = await loadTransformers();
  const sampling = samplingOf(s);
  // The engine's draws (Python's Mersenne Twister) and warpers: a seed gives Engine.generate's tokens.
  const rng = new PyRandom(s.seed);
  let last: StreamedToken | null = null;
  class Choose extends tjs.LogitsProcessor {
    override _call(_ids: bigint[][], logits: Tensor): Tensor {
      const data = logits.data as Float32Array;
      const V = logits.dims.at(-1)!;
      // One sequence: the row is the whole tensor.
      const row = data.length === V ? data : data.subarray(data.length - V);
      const id = pickToken(row, sampling, rng);
      last = { id, logprob: logSoftmax(row)[id] };
      row.fill(-Infinity);
      row[id] = 0;
      return logits;
    }
  }
  class Stop extends tjs.StoppingCriteria {
    override _call(inputIds: number[][]): boolean[] {
      return inputIds.map(() => signal.aborted);
    }
  }
  class Stream extends tjs.BaseStreamer {
    private first = true;
    override put(): void {
      if (this.first) {
        this.first = false; // the prompt
        return;
      }
      if (last) onToken(last);
      last = null;
    }
    override end(): void {}
  }
  const processors = new tjs.LogitsProcessorList();
  processors.push(new Choose());
  const stopping = new tjs.StoppingCriteriaList();
  stopping.push(new Stop());
  await rt.model.generate({
    ...(await idsTensor(ids)),
    max_new_tokens: s.maxNewTokens,
    do_sample: false,
    num_beams: 1,
    repetition_penalty: 1,
    logits_processor: processors,
    stopping_criteria: stopping,
    streamer: new Stream(),
  } as unknown as Parameters<PreTrainedModel['generate']>[0]);
  if (signal.aborted) throw new PolyPruneError('CANCELLED', 'Cancelled.');
}

/** Decode generated ids after the prompt's: the text they add to the decoded prompt. */
export function decodeContinuation(rt: RuntimeModel, prompt: number[], generated: number[]): string {
  const head = rt.tokenizer.decode(prompt, { skip_special_tokens: true });
  const all = rt.tokenizer.decode([...prompt, ...generated], { skip_special_tokens: true });
  return all.startsWith(head) ? all.slice(head.length) : rt.tokenizer.decode(generated, { skip_special_tokens: true });
}

export async function disposeRuntimeModel(rt: RuntimeModel): Promise<void> {
  await rt.model.dispose();
}
