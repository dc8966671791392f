/**
 * transformers.js (`@huggingface/transformers`) on onnxruntime-web, loaded on first use with dynamic
 * `import()`, so the page's first load does not carry them. A model runs from PolyPrune's ONNX export
 * made in memory: the files are served to `AutoModelForCausalLM.from_pretrained` through
 * transformers.js' custom cache (`env.customCache`), remote and local loading are off, and
 * onnxruntime-web's wasm file is the one vite copies into the build (`?url` import), so nothing is
 * fetched from a CDN or the Hub.
 */
import type { PreTrainedModel, PreTrainedTokenizer, Tensor } from '@huggingface/transformers';
import { PolyPruneError } from '../../../common/errors';
import { chooseToken, tokenLogProb, type DecodeSettings } from './decoding';

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
    env.allowLocalModels = false;
    env.useBrowserCache = false;
    env.useWasmCache = false;
    env.useCustomCache = true;
    env.customCache = {
      match: (req: string | Request) => {
        const url = typeof req === 'string' ? req : req.url;
        const at = url.indexOf(`${PREFIX}/`);
        if (at < 0) return Promise.resolve(undefined);
        const rest = url.slice(at + PREFIX.length + 1);
        const slash = rest.indexOf('/');
        const data = files.get(`${PREFIX}/${rest.slice(0, slash)}`)?.get(decodeURIComponent(rest.slice(slash + 1)));
        return Promise.resolve(data ? new Response(data as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(data.byteLength) } }) : undefined);
      },
      put: () => Promise.resolve(),
    };
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

/** The device transformers.js should use here, and why it is not WebGPU when it is not. */
export async function pickDevice(): Promise<{ device: RuntimeDevice; note: string | null }> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { device: 'wasm', note: 'This browser has no WebGPU: onnxruntime-web runs on wasm (CPU), which is slower.' };
  try {
    if (!(await gpu.requestAdapter())) return { device: 'wasm', note: 'WebGPU gave no adapter here: onnxruntime-web runs on wasm (CPU), which is slower.' };
  } catch {
    return { device: 'wasm', note: 'WebGPU gave no adapter here: onnxruntime-web runs on wasm (CPU), which is slower.' };
  }
  return { device: 'webgpu', note: null };
}

export interface RuntimeModel {
  key: string;
  device: RuntimeDevice;
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  bos: number | null;
  eos: number[];
}

/** Load an in-memory export (paths relative to the export folder: config.json, onnx/model.onnx, ...). */
export async function loadRuntimeModel(key: string, exported: Map<string, Uint8Array>, device: RuntimeDevice): Promise<RuntimeModel> {
  const tjs = await loadTransformers();
  const id = `${PREFIX}/${key}`;
  files.set(id, exported);
  try {
    const tokenizer = await tjs.AutoTokenizer.from_pretrained(id);
    const model = await tjs.AutoModelForCausalLM.from_pretrained(id, { dtype: 'fp32', device });
    const cfg = model.config as unknown as { bos_token_id?: number | null; eos_token_id?: number | number[] | null };
    const eos = cfg.eos_token_id;
    return { key, device, model, tokenizer, bos: typeof cfg.bos_token_id === 'number' ? cfg.bos_token_id : null, eos: eos === null || eos === undefined ? [] : Array.isArray(eos) ? eos : [eos] };
  } finally {
    // onnxruntime holds the session; the export's bytes are not needed any more.
    files.delete(id);
  }
}

/** The prompt's ids: BOS (when the model has one) then the prompt tokenized without special tokens. */
export function promptIds(rt: RuntimeModel, prompt: string): number[] {
  const enc = rt.tokenizer.encode(prompt, { add_special_tokens: false });
  return rt.bos === null ? enc : [rt.bos, ...enc];
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
 * Generate with transformers.js' `generate` and a streamer: the next token is chosen by
 * `chooseToken` in a logits processor (greedy, or seeded sampling: transformers.js' own sampler has
 * no seed and no top-p), which leaves only that token possible, so generate's greedy step takes it.
 * Stops at `maxNewTokens`, at EOS, or when `signal` is aborted.
 */
export async function generateStream(rt: RuntimeModel, ids: number[], s: DecodeSettings, signal: AbortSignal, onToken: (t: StreamedToken) => void): Promise<void> {
  const tjs = await loadTransformers();
  const rng = new tjs.random.Random(s.seed);
  let last: StreamedToken | null = null;
  class Choose extends tjs.LogitsProcessor {
    override _call(_ids: bigint[][], logits: Tensor): Tensor {
      const data = logits.data as Float32Array;
      const V = logits.dims.at(-1)!;
      // One sequence: the row is the whole tensor.
      const row = data.length === V ? data : data.subarray(data.length - V);
      const id = chooseToken(row, s, () => rng.random());
      last = { id, logprob: tokenLogProb(row, id) };
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
