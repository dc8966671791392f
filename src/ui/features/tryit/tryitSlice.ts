import type { SliceCreator } from '../../store/types';
import type { DecodeSettings } from './decoding';

/** One generated token as shown: its text (empty while its UTF-8 character is incomplete) and log-probability. */
export interface TryToken {
  id: number;
  text: string;
  logprob: number;
}

/** One model's continuation of the prompt. */
export interface TryOutput {
  modelId: string;
  /** Name at the time of the run (the model may be unloaded later). */
  modelName: string;
  pruned: boolean;
  device: 'webgpu' | 'wasm' | null;
  /** The prompt as typed, and its ids (with BOS). */
  prompt: string;
  promptIds: number[];
  tokens: TryToken[];
  status: 'waiting' | 'exporting' | 'loading' | 'generating' | 'done' | 'stopped' | 'failed';
  /** Why it stopped early (EOS) or failed. */
  note?: string;
}

/** The "Check" of one model: the runtime's logits of the prompt against PolyPrune's engine. */
export interface TryCheck {
  modelId: string;
  modelName: string;
  device: 'webgpu' | 'wasm';
  tokens: number;
  maxAbsDiff: number;
  maxAbsLogit: number;
  relative: number;
}

/** An ONNX export opened from a file (run in onnxruntime-web without the engine: e.g. a browser without WebGPU). */
export interface TryExport {
  /** `export:<n>`, in the same choice list as the engine's model ids. */
  id: string;
  name: string;
  bytes: number;
  /** It holds a pruning.json. */
  pruned: boolean;
}

/** Greedy, 40 new tokens; the sampling fields start at common values. */
export const DEFAULT_DECODE: DecodeSettings = { mode: 'greedy', temperature: 0.8, topK: 50, topP: 0.95, seed: 0, maxNewTokens: 40 };

/** The "Try it" panel: models, prompt, decoding settings, the continuations and the checks. */
export interface TryItSlice {
  /** Models chosen by the user (ids); null: every loaded model. */
  tryModelIds: string[] | null;
  /** ONNX exports opened from files (their bytes stay in actions.ts, not in the store). */
  tryExports: TryExport[];
  addTryExport: (e: TryExport) => void;
  tryPrompt: string;
  tryDecode: DecodeSettings;
  /** onnxruntime-web's backend: automatic (WebGPU on a hardware adapter, else wasm), WebGPU or wasm. */
  tryDevice: 'auto' | 'webgpu' | 'wasm';
  tryOutputs: TryOutput[];
  tryChecks: TryCheck[];
  /** What the runtime runs on and why (e.g. "no WebGPU: wasm"); null before the first run. */
  tryRuntimeNote: string | null;
  setTryModelIds: (ids: string[] | null) => void;
  setTryPrompt: (p: string) => void;
  setTryDecode: (d: Partial<DecodeSettings>) => void;
  setTryDevice: (d: 'auto' | 'webgpu' | 'wasm') => void;
  setTryOutputs: (o: TryOutput[]) => void;
  updateTryOutput: (modelId: string, f: (o: TryOutput) => TryOutput) => void;
  setTryChecks: (c: TryCheck[]) => void;
  setTryRuntimeNote: (n: string | null) => void;
}

export const createTryItSlice: SliceCreator<TryItSlice> = (set) => ({
  tryModelIds: null,
  tryExports: [],
  addTryExport: (e) => set((s) => ({ tryExports: [...s.tryExports, e], tryModelIds: s.tryModelIds && [...s.tryModelIds, e.id] })),
  tryPrompt: '',
  tryDecode: DEFAULT_DECODE,
  tryDevice: 'auto',
  tryOutputs: [],
  tryChecks: [],
  tryRuntimeNote: null,
  setTryModelIds: (tryModelIds) => set({ tryModelIds }),
  setTryPrompt: (tryPrompt) => set({ tryPrompt }),
  setTryDevice: (tryDevice) => set({ tryDevice }),
  setTryDecode: (d) => set((s) => ({ tryDecode: { ...s.tryDecode, ...d } })),
  setTryOutputs: (tryOutputs) => set({ tryOutputs }),
  updateTryOutput: (modelId, f) => set((s) => ({ tryOutputs: s.tryOutputs.map((o) => (o.modelId === modelId ? f(o) : o)) })),
  setTryChecks: (tryChecks) => set({ tryChecks }),
  setTryRuntimeNote: (tryRuntimeNote) => set({ tryRuntimeNote }),
});
