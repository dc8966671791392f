/**
 * Llama-family decoder (llama, mistral, qwen2) and the Cohere decoder (Aya-23) as a sequence of WGSL
 * kernel calls. Cohere (transformers models/cohere/modeling_cohere.py) differs in: LayerNorm with weight
 * only instead of RMSNorm, one input norm feeding attention and MLP in parallel
 * (x + attn(ln(x)) + mlp(ln(x))), optional per-head q/k LayerNorm before RoPE, RoPE on adjacent pairs,
 * and logits multiplied by logit_scale.
 *
 * Shapes: T tokens (B sequences of S), C hidden, H heads, Hkv kv heads, D head dim, F ffn, V vocab.
 * Weights live on the GPU in nn.Linear layout [out, in], split into row chunks that each fit one
 * storage binding. Decoder layers are either all resident or streamed from the checkpoint one at a
 * time (pruning streams; evaluation keeps them resident when they fit).
 */
import { PolyPruneError, throwIfAborted } from '../common/errors';
import type { ProgressCallback } from '../common/progress';
import { type Gpu, type Tensor } from '../gpu/device';
import { fmtBytes } from '../common/format';
import * as ops from '../gpu/ops';
import { type ChunkedMatrix, type PrefixKv, isPacked } from '../gpu/ops';
import { FiniteCheck, describeIndex, nonFinite16, type NonFinite } from '../gpu/finite';
import { bytesToF32, dtypeSize, encode16 } from '../io/dtypes';
import type { Checkpoint } from '../io/safetensors';
import { LOAD_SLICE_BYTES } from '../io/limits';
import { type ModelConfig, ropeInvFreq, validateCheckpoint } from '../io/config';

import { LINEAR_NAMES, type LinearName } from './names';

export { LINEAR_NAMES, type LinearName } from './names';

export interface LayerWeights {
  inputNorm: Tensor; // (C)
  /** null in the parallel (Cohere) block, which has one norm per layer. */
  postNorm: Tensor | null; // (C)
  /** Cohere use_qk_norm: per-head LayerNorm weights of q (H, D) and k (Hkv, D). */
  qNorm: Tensor | null;
  kNorm: Tensor | null;
  linears: Record<LinearName, ChunkedMatrix>;
  biases: Partial<Record<LinearName, Tensor>>;
}

/** Called with the input of every linear layer during a forward: (rows, in_features) activations. */
export type CaptureFn = (name: LinearName, input: Tensor, rows: number, cols: number) => void;

export interface LoadOptions {
  /** Keep every decoder layer on the GPU (default: when the whole model fits in half the adapter's maxBufferSize x 4). */
  resident?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Reuse the embeddings, lm_head and final norm of this loaded model (same config; they are never pruned). */
  shareFrom?: LlamaModel;
}

/** Keys/values of `batch` sequences being generated in step (LlamaModel.createKvCache / decodeStep). */
export interface KvCache {
  /** Tokens per sequence at most. */
  readonly capacity: number;
  readonly batch: number;
  /** Tokens run so far in each sequence. */
  length: number;
  readonly k: Tensor[]; // per layer (batch * capacity, Hkv*D), after RoPE
  readonly v: Tensor[]; // per layer (batch * capacity, Hkv*D)
  destroy(): void;
}

export function linearShape(cfg: ModelConfig, name: LinearName): [number, number] {
  const { hiddenSize: C, numHeads: H, numKvHeads: Hkv, headDim: D, intermediateSize: F } = cfg;
  switch (name) {
    case 'self_attn.q_proj':
      return [H * D, C];
    case 'self_attn.k_proj':
    case 'self_attn.v_proj':
      return [Hkv * D, C];
    case 'self_attn.o_proj':
      return [C, H * D];
    case 'mlp.gate_proj':
    case 'mlp.up_proj':
      return [F, C];
    case 'mlp.down_proj':
      return [C, F];
  }
}

export class LlamaModel {
  private layers: (LayerWeights | null)[];
  /** RoPE cos/sin tables (S, D/2) by sequence length S. */
  private ropeCache = new Map<number, { cos: Tensor; sin: Tensor }>();
  private destroyed = false;
  /**
   * Kernel of the linear layers in decode steps of one token per sequence (decodeStep): 'matvec' (the
   * default) or 'tiled' (the 64 x 64 matmul every forward uses; the bench's side-by-side baseline).
   */
  decodeKernel: 'matvec' | 'tiled' = 'matvec';

  private constructor(
    readonly gpu: Gpu,
    readonly cfg: ModelConfig,
    readonly checkpoint: Checkpoint,
    readonly embed: ChunkedMatrix, // (V, C)
    readonly head: ChunkedMatrix, // (V, C), the embedding when tied
    readonly finalNorm: Tensor, // (C)
    readonly invFreq: Float32Array, // (D/2)
    readonly resident: boolean,
    /** How many live models use embed/head/finalNorm (shared through LoadOptions.shareFrom). */
    private readonly outerRefs: { count: number },
  ) {
    outerRefs.count++;
    this.layers = new Array(cfg.numLayers).fill(null);
  }

  /** Validate the checkpoint against config.json, check adapter limits, upload weights. */
  static async load(gpu: Gpu, cfg: ModelConfig, checkpoint: Checkpoint, opts: LoadOptions = {}): Promise<LlamaModel> {
    validateCheckpoint(cfg, checkpoint);
    const maxBinding = gpu.info.limits.maxStorageBufferBindingSize;
    const widest = Math.max(cfg.hiddenSize, cfg.intermediateSize, cfg.numHeads * cfg.headDim);
    if (widest * 4 * 64 > maxBinding) {
      throw new PolyPruneError('GPU_LIMITS', `This adapter's storage bindings (${fmtBytes(maxBinding)}) are too small for ${widest}-wide rows of this model.`);
    }
    const bytes = gpuWeightBytesOf(checkpoint);
    const resident = opts.resident ?? bytes <= 2 * gpu.info.limits.maxBufferSize;
    const steps = 3 + (resident ? cfg.numLayers : 0);
    let step = 0;
    const progress = (message: string) => opts.onProgress?.({ kind: 'load', message, done: ++step, total: steps });
    const share = opts.shareFrom;
    if (share && (share.gpu !== gpu || share.destroyed || share.cfg.vocabSize !== cfg.vocabSize || share.cfg.hiddenSize !== cfg.hiddenSize)) {
      throw new PolyPruneError('INTERNAL', 'shareFrom must be a live model of the same architecture on the same device');
    }
    const check = new FiniteCheck(gpu);
    const owned: ChunkedMatrix[] = [];
    let finalNorm: Tensor | null = null;
    let model: LlamaModel | null = null;
    try {
      const embed = share ? share.embed : await uploadMatrix(gpu, checkpoint, 'model.embed_tokens.weight', cfg.vocabSize, cfg.hiddenSize, check);
      if (!share) owned.push(embed);
      progress('embeddings');
      const head = share ? share.head : cfg.tieWordEmbeddings ? embed : await uploadMatrix(gpu, checkpoint, 'lm_head.weight', cfg.vocabSize, cfg.hiddenSize, check);
      if (!share && head !== embed) owned.push(head);
      progress('lm_head');
      finalNorm = share ? share.finalNorm : await uploadVector(gpu, checkpoint, 'model.norm.weight', check);
      const invFreq = ropeInvFreq(cfg);
      progress('final norm');
      model = new LlamaModel(gpu, cfg, checkpoint, embed, head, finalNorm, invFreq, resident, share ? share.outerRefs : { count: 0 });
      if (resident) {
        for (let i = 0; i < cfg.numLayers; i++) {
          throwIfAborted(opts.signal);
          model.layers[i] = await model.readLayer(i, check);
          progress(`layer ${i + 1}/${cfg.numLayers}`);
        }
      }
      throwNonFiniteWeights(await check.read(), checkpoint);
      await gpu.sync();
    } catch (e) {
      check.dispose();
      if (model) model.destroy();
      else {
        for (const m of owned) destroyMatrix(m);
        if (!share) finalNorm?.destroy();
      }
      throw e;
    }
    return model;
  }

  /** Upload layer i's weights, adding each to `check` (the caller reads it). Frees what it made on error. */
  private async readLayer(i: number, check: FiniteCheck): Promise<LayerWeights> {
    const p = `model.layers.${i}.`;
    const made: { m?: ChunkedMatrix; t?: Tensor }[] = [];
    const vec = async (name: string): Promise<Tensor> => {
      const t = await uploadVector(this.gpu, this.checkpoint, name, check);
      made.push({ t });
      return t;
    };
    try {
      const linears = {} as Record<LinearName, ChunkedMatrix>;
      for (const n of LINEAR_NAMES) {
        const [N, K] = linearShape(this.cfg, n);
        linears[n] = await uploadMatrix(this.gpu, this.checkpoint, `${p}${n}.weight`, N, K, check);
        made.push({ m: linears[n] });
      }
      const biases: LayerWeights['biases'] = {};
      for (const n of biasedLinears(this.cfg)) biases[n] = await vec(`${p}${n}.bias`);
      const opt = (name: string, on: boolean): Promise<Tensor | null> => (on ? vec(`${p}${name}`) : Promise.resolve(null));
      return {
        inputNorm: await vec(`${p}input_layernorm.weight`),
        postNorm: await opt('post_attention_layernorm.weight', !this.cfg.parallelBlock),
        qNorm: await opt('self_attn.q_norm.weight', this.cfg.qkNorm),
        kNorm: await opt('self_attn.k_norm.weight', this.cfg.qkNorm),
        linears,
        biases,
      };
    } catch (e) {
      for (const x of made) {
        if (x.m) destroyMatrix(x.m);
        x.t?.destroy();
      }
      throw e;
    }
  }

  /** The weights of layer i on the GPU (loaded from the checkpoint and checked for NaN/Inf if not resident). */
  async layer(i: number): Promise<LayerWeights> {
    this.checkAlive();
    const l = this.layers[i];
    if (l) return l;
    const check = new FiniteCheck(this.gpu);
    let loaded: LayerWeights;
    try {
      loaded = await this.readLayer(i, check);
    } catch (e) {
      check.dispose();
      throw e;
    }
    try {
      throwNonFiniteWeights(await check.read(), this.checkpoint);
    } catch (e) {
      destroyLayer(loaded);
      throw e;
    }
    this.layers[i] = loaded;
    return loaded;
  }

  /** Free a streamed layer's weights (no-op for resident models unless forced). */
  releaseLayer(i: number, force = false): void {
    const l = this.layers[i];
    if (!l || (this.resident && !force)) return;
    destroyLayer(l);
    this.layers[i] = null;
  }

  /** Replace the weights of one linear layer (e.g. after pruning); packed layers round to their format (nearest even). */
  async setLinear(i: number, name: LinearName, weight: Float32Array): Promise<void> {
    const l = await this.layer(i);
    const m = l.linears[name];
    for (const ch of m.chunks) {
      const part = weight.subarray(ch.rowStart * m.cols, (ch.rowStart + ch.rows) * m.cols);
      this.gpu.write(ch.tensor, isPacked(m) ? encode16(part, m.format as 'f16' | 'bf16') : part);
    }
  }

  /** Read one linear layer's weights back (N, K) as f32 (packed 16-bit weights exactly). */
  async readLinear(i: number, name: LinearName): Promise<Float32Array> {
    const m = (await this.layer(i)).linears[name];
    const out = new Float32Array(m.rows * m.cols);
    for (const ch of m.chunks) {
      const n = ch.rows * m.cols;
      if (!isPacked(m)) out.set(await this.gpu.readF32(ch.tensor, 0, n), ch.rowStart * m.cols);
      else {
        const words = (await this.gpu.read(ch.tensor, 0, Math.ceil(n / 2))) as Uint32Array;
        const bytes = new Uint8Array(words.buffer, words.byteOffset, n * 2);
        out.set(bytesToF32(bytes, m.format === 'f16' ? 'F16' : 'BF16', name), ch.rowStart * m.cols);
      }
    }
    return out;
  }

  /** Whether this checkpoint's weight matrices are 16-bit (F16/BF16) and stay packed on the GPU. */
  static keepsPacked(checkpoint: Checkpoint): boolean {
    const n = checkpoint.names().find((x) => /\.(q_proj|embed_tokens)\.weight$/.test(x));
    const d = n ? checkpoint.info(n).dtype : undefined;
    return d === 'F16' || d === 'BF16';
  }

  /** GPU bytes of this model's weights when loaded (16-bit matrices packed). */
  static gpuWeightBytes(checkpoint: Checkpoint): number {
    return gpuWeightBytesOf(checkpoint);
  }

  /** Largest number of tokens one forward chunk may hold within the adapter's binding limit. */
  maxChunkTokens(): number {
    const { hiddenSize: C, intermediateSize: F, numHeads: H, headDim: D } = this.cfg;
    const widest = Math.max(C, F, H * D);
    return Math.max(1, Math.floor(this.gpu.info.limits.maxStorageBufferBindingSize / (widest * 4)));
  }

  /** The model's norm (RMSNorm or Cohere LayerNorm) of x (T, C) into out (T, C). */
  private norm(x: Tensor, weight: Tensor, out: Tensor, T: number): void {
    const { hiddenSize: C, rmsNormEps: eps } = this.cfg;
    if (this.cfg.normType === 'layer') ops.layernorm(this.gpu, x, weight, out, T, C, eps);
    else ops.rmsnorm(this.gpu, x, weight, out, T, C, eps);
  }

  /** Cohere's per-head q/k LayerNorm: a new (T, heads*D) tensor; destroys v. */
  private headNorm(v: Tensor, weight: Tensor, T: number, heads: number): Tensor {
    const D = this.cfg.headDim;
    const out = this.gpu.tensor([T, heads * D], 'f32', 'qk_norm');
    ops.layernorm(this.gpu, v, weight, out, T * heads, D, this.cfg.rmsNormEps, heads);
    v.destroy();
    return out;
  }

  /** x (T, C) = embeddings of ids (T). */
  embedTokens(ids: Tensor, T: number): Tensor {
    const x = this.gpu.tensor([T, this.cfg.hiddenSize], 'f32', 'x');
    ops.embedding(this.gpu, ids, this.embed, x, T);
    return x;
  }

  /**
   * One decoder layer over T = B*S tokens (B independent sequences of S). Returns a new tensor; the
   * caller destroys `x` when done with it. `capture` sees the input of every linear layer.
   */
  async forwardLayer(i: number, x: Tensor, T: number, S: number, capture?: CaptureFn): Promise<Tensor> {
    return (await this.layerPass(i, x, T, S, { capture })).h!;
  }

  /**
   * One decoder layer (see forwardLayer). `prefix`: every sequence also attends its cached prefix
   * keys/values and starts at the prefix's position. `keepKv`: also return this layer's keys (after
   * RoPE) and values (T, Hkv*D), for later tokens to attend to; with `kvOnly` the layer stops there
   * (h is null).
   */
  private async layerPass(
    i: number,
    x: Tensor,
    T: number,
    S: number,
    o: { capture?: CaptureFn; prefix?: PrefixKv; keepKv?: boolean; kvOnly?: boolean; matvec?: boolean },
  ): Promise<{ h: Tensor | null; k?: Tensor; v?: Tensor }> {
    const g = this.gpu;
    const capture = o.capture;
    const { hiddenSize: C, numHeads: H, numKvHeads: Hkv, headDim: D, intermediateSize: F, parallelBlock } = this.cfg;
    if (T % S !== 0) throw new PolyPruneError('INTERNAL', `forwardLayer: T=${T} is not a multiple of S=${S}`);
    if (T > this.maxChunkTokens()) throw new PolyPruneError('GPU_LIMITS', `forwardLayer: ${T} tokens exceed this adapter's per-binding limit (${this.maxChunkTokens()} tokens); split the batch.`);
    const w = await this.layer(i);
    const L = w.linears;
    const hIn = g.tensor([T, C], 'f32', 'attn_in');
    this.norm(x, w.inputNorm, hIn, T);
    capture?.('self_attn.q_proj', hIn, T, C);
    capture?.('self_attn.k_proj', hIn, T, C);
    capture?.('self_attn.v_proj', hIn, T, C);
    let q = g.tensor([T, H * D], 'f32', 'q');
    let k = g.tensor([T, Hkv * D], 'f32', 'k');
    const v = g.tensor([T, Hkv * D], 'f32', 'v');
    ops.matmul(g, hIn, T, L['self_attn.q_proj'], q, { bias: w.biases['self_attn.q_proj'], matvec: o.matvec });
    ops.matmul(g, hIn, T, L['self_attn.k_proj'], k, { bias: w.biases['self_attn.k_proj'], matvec: o.matvec });
    ops.matmul(g, hIn, T, L['self_attn.v_proj'], v, { bias: w.biases['self_attn.v_proj'], matvec: o.matvec });
    // The parallel block feeds the same normed input to the MLP: keep it until then.
    if (!parallelBlock || o.kvOnly) hIn.destroy();
    if (w.qNorm && w.kNorm) {
      q = this.headNorm(q, w.qNorm, T, H);
      k = this.headNorm(k, w.kNorm, T, Hkv);
    }
    // Prefix runs round the table length up to 64 positions so that the cache keeps hitting.
    const rt = this.ropeTables(o.prefix ? Math.ceil((S + o.prefix.maxPrefix) / 64) * 64 : S);
    const ropeOpts = { interleaved: this.cfg.ropeInterleaved, meta: o.prefix?.meta };
    ops.rope(g, k, rt.cos, rt.sin, T, S, Hkv, D, ropeOpts);
    if (o.kvOnly) {
      q.destroy();
      return { h: null, k, v };
    }
    ops.rope(g, q, rt.cos, rt.sin, T, S, H, D, ropeOpts);
    const att = g.tensor([T, H * D], 'f32', 'attn');
    ops.attention(g, q, k, v, att, T, S, H, Hkv, D, o.prefix);
    q.destroy();
    if (!o.keepKv) {
      k.destroy();
      v.destroy();
    }
    capture?.('self_attn.o_proj', att, T, H * D);
    const h = g.tensor([T, C], 'f32', 'h');
    g.copy(x, 0, h, 0, T * C);
    ops.matmul(g, att, T, L['self_attn.o_proj'], h, { beta: 1, bias: w.biases['self_attn.o_proj'], matvec: o.matvec });
    att.destroy();
    // Llama: mlp_in = norm(x + attn); Cohere (parallel): mlp_in = the attention's input norm(x).
    let mIn = hIn;
    if (!parallelBlock) {
      mIn = g.tensor([T, C], 'f32', 'mlp_in');
      this.norm(h, w.postNorm!, mIn, T);
    }
    capture?.('mlp.gate_proj', mIn, T, C);
    capture?.('mlp.up_proj', mIn, T, C);
    const gate = g.tensor([T, F], 'f32', 'gate');
    const up = g.tensor([T, F], 'f32', 'up');
    ops.matmul(g, mIn, T, L['mlp.gate_proj'], gate, { bias: w.biases['mlp.gate_proj'], matvec: o.matvec });
    ops.matmul(g, mIn, T, L['mlp.up_proj'], up, { bias: w.biases['mlp.up_proj'], matvec: o.matvec });
    mIn.destroy();
    ops.siluMul(g, gate, up, T * F);
    up.destroy();
    capture?.('mlp.down_proj', gate, T, F);
    ops.matmul(g, gate, T, L['mlp.down_proj'], h, { beta: 1, bias: w.biases['mlp.down_proj'], matvec: o.matvec });
    gate.destroy();
    return o.keepKv ? { h, k, v } : { h };
  }

  private ropeTables(S: number): { cos: Tensor; sin: Tensor } {
    let t = this.ropeCache.get(S);
    if (!t) {
      const { cos, sin } = ops.ropeTables(this.invFreq, S);
      const half = this.cfg.headDim / 2;
      t = { cos: this.gpu.upload(cos, [S, half], 'rope.cos'), sin: this.gpu.upload(sin, [S, half], 'rope.sin') };
      if (this.ropeCache.size >= 8) {
        const [oldS, old] = this.ropeCache.entries().next().value!;
        old.cos.destroy();
        old.sin.destroy();
        this.ropeCache.delete(oldS);
      }
      this.ropeCache.set(S, t);
    }
    return t;
  }

  /** Final norm + lm_head + log-softmax NLL per token: nll[t] for targets[t] (0 where target < 0). */
  headNll(x: Tensor, targets: Tensor, T: number): Tensor {
    const g = this.gpu;
    const { hiddenSize: C, vocabSize: V, logitScale } = this.cfg;
    const xn = g.tensor([T, C], 'f32', 'final_norm');
    this.norm(x, this.finalNorm, xn, T);
    const out = g.tensor([T], 'f32', 'nll');
    const rowsPerChunk = Math.max(1, Math.min(T, Math.floor(g.info.limits.maxStorageBufferBindingSize / (V * 4)), 4096));
    const logits = g.tensor([rowsPerChunk, V], 'f32', 'logits');
    for (let r0 = 0; r0 < T; r0 += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, T - r0);
      ops.matmul(g, { tensor: xn, offsetElems: r0 * C, numElems: rows * C }, rows, this.head, logits);
      if (logitScale !== 1) ops.scale(g, logits, rows * V, logitScale);
      ops.nll(g, logits, targets, out, rows, V, r0);
    }
    logits.destroy();
    xn.destroy();
    return out;
  }

  /** Logits (T, V) of the final layer output; for tests and small inputs only. `matvec`: see decodeStep. */
  logits(x: Tensor, T: number, matvec = false): Tensor {
    const g = this.gpu;
    const { hiddenSize: C, vocabSize: V, logitScale } = this.cfg;
    const xn = g.tensor([T, C], 'f32', 'final_norm');
    this.norm(x, this.finalNorm, xn, T);
    const logits = g.tensor([T, V], 'f32', 'logits');
    ops.matmul(g, xn, T, this.head, logits, { matvec });
    if (logitScale !== 1) ops.scale(g, logits, T * V, logitScale);
    xn.destroy();
    return logits;
  }

  /**
   * Hidden states after all layers for B sequences of S tokens (ids length B*S). With `check`, every
   * layer's output is added to it (item `model.layers.i output`) for a NaN/Inf diagnosis.
   */
  async forwardHidden(ids: Int32Array, S: number, signal?: AbortSignal, check?: FiniteCheck): Promise<Tensor> {
    const T = ids.length;
    const tIds = this.gpu.upload(ids, [T], 'ids');
    let x = this.embedTokens(tIds, T);
    tIds.destroy();
    for (let i = 0; i < this.cfg.numLayers; i++) {
      // With a signal, wait for the previous layer: a cancel then acts after one layer, not after the
      // whole forward queued on a slow adapter (a sync per layer costs little next to a layer's work).
      if (signal && i > 0 && this.resident) await this.gpu.sync();
      throwIfAborted(signal);
      const nx = await this.forwardLayer(i, x, T, S);
      x.destroy();
      x = nx;
      check?.add(`model.layers.${i} output`, x, T * this.cfg.hiddenSize, { cols: this.cfg.hiddenSize });
      if (!this.resident) {
        await this.gpu.sync();
        this.releaseLayer(i);
      }
    }
    return x;
  }

  /**
   * NLL of tokens 1..n-1 of each sequence given its prefix. Sequences are padded to a common length
   * within a batch (causal attention makes right padding harmless) and batched up to `maxTokens`.
   */
  async tokenNll(seqs: Int32Array[], opts: { maxTokens?: number; signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const result: Float32Array[] = new Array(seqs.length);
    const order = seqs.map((s, i) => i).sort((a, b) => seqs[b].length - seqs[a].length);
    const budget = Math.min(opts.maxTokens ?? 8192, this.maxChunkTokens());
    let k = 0;
    while (k < order.length) {
      throwIfAborted(opts.signal);
      const S = seqs[order[k]].length;
      if (S < 2) {
        result[order[k]] = new Float32Array(0);
        k++;
        continue;
      }
      if (S > budget) throw new PolyPruneError('BAD_ARGUMENT', `A sequence of ${S} tokens exceeds what one forward can hold here (${budget}); use a shorter sequence length.`);
      const B = Math.max(1, Math.min(order.length - k, Math.floor(budget / S)));
      const batch = order.slice(k, k + B);
      const ids = new Int32Array(B * S);
      const targets = new Int32Array(B * S).fill(-1);
      batch.forEach((si, b) => {
        const s = seqs[si];
        ids.set(s, b * S);
        for (let t = 0; t + 1 < s.length; t++) targets[b * S + t] = s[t + 1];
      });
      const check = new FiniteCheck(this.gpu);
      let nll: Float32Array;
      try {
        const x = await this.forwardHidden(ids, S, opts.signal, check);
        const tT = this.gpu.upload(targets, [B * S], 'targets');
        const nllT = this.headNll(x, tT, B * S);
        nll = await this.gpu.readF32(nllT);
        x.destroy();
        tT.destroy();
        nllT.destroy();
        if (!nll.every(Number.isFinite)) throwNonFiniteActivations(await check.read(), nll, S);
      } finally {
        check.dispose();
      }
      batch.forEach((si, b) => {
        result[si] = nll.slice(b * S, b * S + seqs[si].length - 1);
      });
      k += B;
    }
    return result;
  }

  /**
   * Context sharing: NLLs of continuations that share a prefix, with the prefix run once. For group g
   * and suffix i the result is the NLL of each token of suffixes[i] given prefix + the suffix tokens
   * before it: the last |suffix| entries of tokenNll([prefix ++ suffix]), computed the same way.
   *
   * How: prefix tokens 0..P-2 run once per group (the "context pass") and each layer keeps their
   * keys/values; then every suffix runs as [prefix[P-1], suffix[0..n-2]] from position P-1 (the
   * "continuation pass"), attending the cached rows before its own tokens. Both passes go through a
   * layer before the next layer is touched, so streamed models load each layer once per batch and
   * only one layer's cache is alive. Groups with a one-token prefix have nothing to share and run
   * whole; so do groups too long for one forward (tokenNll then says why).
   */
  async tokenNllShared(
    groups: { prefix: Int32Array; suffixes: Int32Array[] }[],
    opts: { maxTokens?: number; signal?: AbortSignal } = {},
  ): Promise<Float32Array[][]> {
    const budget = Math.min(opts.maxTokens ?? 8192, this.maxChunkTokens());
    const result: Float32Array[][] = groups.map((gr) => new Array<Float32Array>(gr.suffixes.length));
    // Units: (group, a run of its suffixes) small enough for one continuation pass.
    interface Unit { g: number; from: number; to: number; ctx: number; sq: number }
    const units: Unit[] = [];
    const whole: { g: number; i: number }[] = [];
    groups.forEach((gr, g) => {
      if (gr.suffixes.some((x) => x.length < 1)) throw new PolyPruneError('INTERNAL', 'tokenNllShared: every suffix needs at least one token');
      const ctx = gr.prefix.length - 1;
      const longest = Math.max(...gr.suffixes.map((x) => x.length));
      if (ctx < 1 || ctx > budget || longest > budget) {
        gr.suffixes.forEach((_, i) => whole.push({ g, i }));
        return;
      }
      const per = Math.max(1, Math.floor(budget / longest));
      for (let from = 0; from < gr.suffixes.length; from += per) {
        const to = Math.min(gr.suffixes.length, from + per);
        units.push({ g, from, to, ctx, sq: Math.max(...gr.suffixes.slice(from, to).map((x) => x.length)) });
      }
    });
    if (whole.length) {
      const seqs = whole.map(({ g, i }) => {
        const { prefix, suffixes } = groups[g];
        const seq = new Int32Array(prefix.length + suffixes[i].length);
        seq.set(prefix);
        seq.set(suffixes[i], prefix.length);
        return seq;
      });
      const out = await this.tokenNll(seqs, opts);
      whole.forEach(({ g, i }, j) => (result[g][i] = out[j].slice(out[j].length - groups[g].suffixes[i].length)));
    }
    units.sort((a, b) => b.ctx - a.ctx || b.sq - a.sq);
    for (let k = 0; k < units.length; ) {
      throwIfAborted(opts.signal);
      // Greedy batch: both passes stay within the budget (padded tokens).
      let Pc = 0;
      let Sq = 0;
      let Bq = 0;
      let end = k;
      while (end < units.length) {
        const u = units[end];
        const pc = Math.max(Pc, u.ctx);
        const sq = Math.max(Sq, u.sq);
        const bq = Bq + (u.to - u.from);
        if (end > k && (pc * (end - k + 1) > budget || sq * bq > budget)) break;
        Pc = pc;
        Sq = sq;
        Bq = bq;
        end++;
      }
      await this.sharedBatch(groups, units.slice(k, end), Pc, Sq, Bq, result, opts.signal);
      k = end;
    }
    return result;
  }

  /** One batch of tokenNllShared: Bc = units.length contexts of Pc tokens, Bq continuations of Sq. */
  private async sharedBatch(
    groups: { prefix: Int32Array; suffixes: Int32Array[] }[],
    units: { g: number; from: number; to: number; ctx: number }[],
    Pc: number,
    Sq: number,
    Bq: number,
    result: Float32Array[][],
    signal?: AbortSignal,
  ): Promise<void> {
    const g = this.gpu;
    const Bc = units.length;
    const ctxIds = new Int32Array(Bc * Pc); // (Bc, Pc) right-padded with token 0
    const ids = new Int32Array(Bq * Sq); // (Bq, Sq)
    const targets = new Int32Array(Bq * Sq).fill(-1);
    const meta = new Uint32Array(Bq * 2); // per continuation: first cached row, prefix length
    const where: { g: number; i: number; b: number }[] = [];
    let b = 0;
    units.forEach((u, c) => {
      const { prefix, suffixes } = groups[u.g];
      ctxIds.set(prefix.subarray(0, u.ctx), c * Pc);
      for (let i = u.from; i < u.to; i++, b++) {
        const sfx = suffixes[i];
        ids[b * Sq] = prefix[u.ctx];
        ids.set(sfx.subarray(0, sfx.length - 1), b * Sq + 1);
        targets.set(sfx, b * Sq);
        meta[2 * b] = c * Pc;
        meta[2 * b + 1] = u.ctx;
        where.push({ g: u.g, i, b });
      }
    });
    const check = new FiniteCheck(g);
    const live: Tensor[] = [];
    const own = <T extends Tensor>(t: T): T => (live.push(t), t);
    const drop = (t: Tensor) => {
      t.destroy();
      live.splice(live.indexOf(t), 1);
    };
    let nll: Float32Array;
    try {
      const tCtx = own(g.upload(ctxIds, [Bc * Pc], 'ctx_ids'));
      let xc: Tensor | null = own(this.embedTokens(tCtx, Bc * Pc));
      drop(tCtx);
      const tIds = own(g.upload(ids, [Bq * Sq], 'ids'));
      let xq = own(this.embedTokens(tIds, Bq * Sq));
      drop(tIds);
      const tMeta = own(g.upload(meta, [Bq * 2], 'prefix_meta'));
      const last = this.cfg.numLayers - 1;
      for (let i = 0; i <= last; i++) {
        if (signal && i > 0 && this.resident) await g.sync(); // a cancel acts after one layer (see forwardHidden)
        throwIfAborted(signal);
        // The context's output after the last layer is never used: only its keys/values are needed there.
        const c = await this.layerPass(i, xc!, Bc * Pc, Pc, { keepKv: true, kvOnly: i === last });
        own(c.k!);
        own(c.v!);
        drop(xc!);
        xc = c.h ? own(c.h) : null;
        const q = await this.layerPass(i, xq, Bq * Sq, Sq, { prefix: { k: c.k!, v: c.v!, meta: tMeta, maxPrefix: Pc } });
        own(q.h!);
        drop(c.k!);
        drop(c.v!);
        drop(xq);
        xq = q.h!;
        check.add(`model.layers.${i} output`, xq, Bq * Sq * this.cfg.hiddenSize, { cols: this.cfg.hiddenSize });
        if (!this.resident) {
          await g.sync();
          this.releaseLayer(i);
        }
      }
      drop(tMeta);
      const tT = own(g.upload(targets, [Bq * Sq], 'targets'));
      const nllT = own(this.headNll(xq, tT, Bq * Sq));
      nll = await g.readF32(nllT);
      if (!nll.every(Number.isFinite)) throwNonFiniteActivations(await check.read(), nll, Sq);
    } finally {
      check.dispose();
      for (const t of live) t.destroy();
    }
    for (const { g: gi, i, b: bi } of where) result[gi][i] = nll.slice(bi * Sq, bi * Sq + groups[gi].suffixes[i].length);
  }

  /**
   * A K/V cache for generating `batch` sequences of up to `capacity` tokens each: per layer the keys
   * (after RoPE) and values (batch * capacity, Hkv*D) of the tokens run so far (sequence b in rows
   * b * capacity ..), as context sharing keeps a prefix's.
   */
  createKvCache(capacity: number, batch = 1): KvCache {
    this.checkAlive();
    const { numLayers: L, numKvHeads: Hkv, headDim: D } = this.cfg;
    const bytes = batch * capacity * Hkv * D * 4;
    if (bytes > this.gpu.info.limits.maxStorageBufferBindingSize) {
      throw new PolyPruneError('GPU_LIMITS', `A K/V cache of ${batch} x ${capacity} tokens (${fmtBytes(bytes)} per layer and kind) exceeds this adapter's storage binding limit (${fmtBytes(this.gpu.info.limits.maxStorageBufferBindingSize)}); generate fewer or shorter sequences at once.`);
    }
    const k: Tensor[] = [];
    const v: Tensor[] = [];
    try {
      for (let i = 0; i < L; i++) {
        k.push(this.gpu.tensor([batch * capacity, Hkv * D], 'f32', `kv_cache.k.${i}`));
        v.push(this.gpu.tensor([batch * capacity, Hkv * D], 'f32', `kv_cache.v.${i}`));
      }
    } catch (e) {
      for (const t of [...k, ...v]) t.destroy();
      throw e;
    }
    return {
      capacity,
      batch,
      length: 0,
      k,
      v,
      destroy() {
        for (const t of [...k, ...v]) t.destroy();
        k.length = 0;
        v.length = 0;
      },
    };
  }

  /**
   * Run `ids` (batch x T tokens, sequence after sequence) after the `cache.length` tokens each
   * sequence already has in `cache`, append their keys/values and return the logits (batch, V) of
   * each sequence's last new token. The new tokens attend the cached rows first through the
   * context-sharing attention path (the same key order as one forward over the whole sequence), so a
   * cached step gives the logits of a full forward over everything so far. Long prompts run in
   * several steps. A step of one new token per sequence (each step after the prompt, and a one-token
   * prompt) runs its linear layers and the output head through the few-rows kernel (ops.matvec, unless
   * `decodeKernel` is 'tiled'): its cost grows with the batch instead of paying a 64-row tile per
   * matmul. The kernel depends on the tokens per sequence, never on the batch size, so a sequence gets
   * the same logits alone or in a batch.
   */
  async decodeStep(ids: Int32Array, cache: KvCache, signal?: AbortSignal): Promise<Float32Array> {
    this.checkAlive();
    const g = this.gpu;
    const B = cache.batch;
    const { hiddenSize: C, numKvHeads: Hkv, headDim: D } = this.cfg;
    const W = Hkv * D;
    const Tall = ids.length / B;
    if (!Number.isInteger(Tall) || Tall < 1) throw new PolyPruneError('INTERNAL', `decodeStep: ${ids.length} ids for a batch of ${B}`);
    if (cache.length + Tall > cache.capacity) throw new PolyPruneError('INTERNAL', `decodeStep: ${cache.length + Tall} tokens exceed the cache's ${cache.capacity}`);
    const chunk = Math.max(1, Math.floor(Math.min(this.maxChunkTokens(), 4096) / B));
    if (chunk < 1 || B > Math.min(this.maxChunkTokens(), 4096)) throw new PolyPruneError('GPU_LIMITS', `decodeStep: a batch of ${B} sequences exceeds one forward chunk here`);
    const matvec = Tall === 1 && this.decodeKernel === 'matvec';
    let last: Tensor | null = null;
    for (let s0 = 0; s0 < Tall; s0 += chunk) {
      const T = Math.min(chunk, Tall - s0);
      const part = new Int32Array(B * T);
      for (let b = 0; b < B; b++) part.set(ids.subarray(b * Tall + s0, b * Tall + s0 + T), b * T);
      const P = cache.length;
      const live: Tensor[] = [];
      try {
        const tIds = g.upload(part, [B * T], 'ids');
        let x = this.embedTokens(tIds, B * T);
        tIds.destroy();
        let meta: Tensor | null = null;
        if (P > 0) {
          const m = new Uint32Array(2 * B);
          for (let b = 0; b < B; b++) {
            m[2 * b] = b * cache.capacity;
            m[2 * b + 1] = P;
          }
          meta = g.upload(m, [B * 2], 'prefix_meta');
          live.push(meta);
        }
        for (let i = 0; i < this.cfg.numLayers; i++) {
          if (signal && i > 0 && this.resident && B * T > 64) await g.sync();
          throwIfAborted(signal);
          live.push(x);
          const prefix = meta ? { k: cache.k[i], v: cache.v[i], meta, maxPrefix: P } : undefined;
          const r = await this.layerPass(i, x, B * T, T, { keepKv: true, prefix, matvec });
          live.push(r.h!, r.k!, r.v!);
          for (let b = 0; b < B; b++) {
            g.copy(r.k!, b * T * W, cache.k[i], (b * cache.capacity + P) * W, T * W);
            g.copy(r.v!, b * T * W, cache.v[i], (b * cache.capacity + P) * W, T * W);
          }
          r.k!.destroy();
          r.v!.destroy();
          x.destroy();
          live.length = meta ? 1 : 0;
          x = r.h!;
          if (!this.resident) {
            await g.sync();
            this.releaseLayer(i);
          }
        }
        live.push(x);
        cache.length = P + T;
        if (s0 + T >= Tall) {
          last = g.tensor([B, C], 'f32', 'last_hidden');
          for (let b = 0; b < B; b++) g.copy(x, (b * T + T - 1) * C, last, b * C, C);
        }
      } finally {
        for (const t of live) t.destroy();
      }
    }
    let lt: Tensor | null = null;
    try {
      lt = this.logits(last!, B, matvec);
      return await g.readF32(lt);
    } finally {
      last!.destroy();
      lt?.destroy();
    }
  }

  private checkAlive(): void {
    if (this.destroyed) throw new PolyPruneError('INTERNAL', 'This model was unloaded; load it again.');
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i];
      if (l) destroyLayer(l);
      this.layers[i] = null;
    }
    if (--this.outerRefs.count === 0) {
      destroyMatrix(this.embed);
      if (this.head !== this.embed) destroyMatrix(this.head);
      this.finalNorm.destroy();
    }
    for (const t of this.ropeCache.values()) {
      t.cos.destroy();
      t.sin.destroy();
    }
    this.ropeCache.clear();
  }
}

/** Linear layers that carry a bias in this architecture (qwen2: q/k/v). */
export function biasedLinears(cfg: ModelConfig): LinearName[] {
  const out: LinearName[] = [];
  if (cfg.attentionBias) out.push('self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj');
  if (cfg.attentionOutBias) out.push('self_attn.o_proj');
  if (cfg.mlpBias) out.push('mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj');
  return out;
}

function destroyMatrix(m: ChunkedMatrix): void {
  for (const c of m.chunks) c.tensor.destroy();
}

function destroyLayer(l: LayerWeights): void {
  l.inputNorm.destroy();
  l.postNorm?.destroy();
  l.qNorm?.destroy();
  l.kNorm?.destroy();
  for (const n of LINEAR_NAMES) destroyMatrix(l.linears[n]);
  for (const b of Object.values(l.biases)) b?.destroy();
}

/**
 * GPU bytes of a checkpoint's tensors as LlamaModel keeps them: F16/BF16 matrices packed (2 bytes an
 * element), vectors (norms, biases) and every other dtype as f32.
 */
function gpuWeightBytesOf(checkpoint: Checkpoint): number {
  let bytes = 0;
  for (const n of checkpoint.names()) {
    const i = checkpoint.info(n);
    const elems = i.byteLength / dtypeSize(i.dtype);
    bytes += elems * (i.shape.length === 2 && (i.dtype === 'F16' || i.dtype === 'BF16') ? 2 : 4);
  }
  return bytes;
}

/** Upload raw checkpoint bytes of `rows` x `cols` values as f32, converting 16-bit floats on the GPU. */
async function uploadRows(gpu: Gpu, raw: Uint8Array, dtype: string, rows: number, cols: number, label: string): Promise<Tensor> {
  const n = rows * cols;
  if (dtype === 'F32') {
    const t = gpu.tensor([rows, cols], 'f32', label);
    gpu.write(t, raw);
    return t;
  }
  if (dtype === 'F16' || dtype === 'BF16') {
    const src = gpu.uploadBytes(raw, `${label}.raw`);
    const t = gpu.tensor([rows, cols], 'f32', label);
    ops.convert16(gpu, src, t, n, dtype === 'F16' ? 'f16' : 'bf16');
    src.destroy();
    return t;
  }
  throw new PolyPruneError('CHECKPOINT_MISMATCH', `Tensor ${label} has dtype ${dtype}; weights must be F32, F16 or BF16.`);
}

/**
 * NON_FINITE for a forward whose losses came out NaN/Inf: names the first decoder layer whose output
 * held NaN/Inf (from the per-layer check), or the final norm and output head when every layer was finite.
 */
export function throwNonFiniteActivations(layers: NonFinite[], nll: Float32Array, S: number): never {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < nll.length; i++) {
    if (!Number.isFinite(nll[i])) {
      bad++;
      if (first < 0) first = i;
    }
  }
  const where = layers.length
    ? `the output of decoder layer ${layers[0].what.replace(/^model\.layers\.(\d+) output$/, '$1')} (${layers[0].count} values, first at token ${Math.floor(layers[0].first / (layers[0].cols ?? 1)) % S} of its window, channel ${layers[0].first % (layers[0].cols ?? 1)})`
    : 'the final norm or output head (logits), every decoder layer output was finite';
  throw new PolyPruneError(
    'NON_FINITE',
    `Non-finite values (NaN/Inf) appeared in ${where}; ${bad} token loss${bad === 1 ? '' : 'es'} came out non-finite (first at token ${first % S + 1} of its window). The activations overflow float32 with these weights, so no score is reported.`,
  );
}

/**
 * CHECKPOINT non-finite weights: NON_FINITE naming the first bad tensor (count, first index) and how
 * many others there are. Nothing runs on such a model: every output would be NaN.
 */
export function throwNonFiniteWeights(bad: NonFinite[], ckpt: Checkpoint): void {
  if (bad.length === 0) return;
  const [b] = bad;
  const more = bad.length > 1 ? ` ${bad.length - 1} more tensor${bad.length > 2 ? 's' : ''} hold NaN/Inf too (${bad.slice(1, 4).map((x) => `'${x.what}'`).join(', ')}${bad.length > 4 ? ', ...' : ''}).` : '';
  throw new PolyPruneError(
    'NON_FINITE',
    `Tensor '${b.what}' in ${ckpt.has(b.what) ? ckpt.info(b.what).file : ckpt.location} holds ${b.count} non-finite value${b.count === 1 ? '' : 's'} (NaN/Inf), the first at ${describeIndex(b)}.${more} The checkpoint is corrupt (or saved from a diverged run); every result computed from it would be NaN, so nothing was run.`,
  );
}

/**
 * A [rows, cols] weight matrix as row chunks within one binding each (chunk starts 64-row aligned,
 * cut as for f32 whatever the dtype). F16/BF16 stay packed two per word (`format`), checked for
 * NaN/Inf on the host as they go up; F32 are f32, checked on the GPU. The bytes are read and
 * written in row slices of at most `sliceBytes` ({@link LOAD_SLICE_BYTES}); a checkpoint without
 * `readRawRange` is read whole and uploaded in the same slices.
 */
export async function uploadMatrix(gpu: Gpu, ckpt: Checkpoint, name: string, rows: number, cols: number, check?: FiniteCheck, sliceBytes = LOAD_SLICE_BYTES): Promise<ChunkedMatrix> {
  const info = ckpt.info(name);
  if (info.dtype !== 'F32' && info.dtype !== 'F16' && info.dtype !== 'BF16') {
    throw new PolyPruneError('CHECKPOINT_MISMATCH', `Tensor ${name} has dtype ${info.dtype}; weights must be F32, F16 or BF16.`);
  }
  const eb = info.byteLength / (rows * cols);
  const format = info.dtype === 'F16' ? 'f16' : info.dtype === 'BF16' ? 'bf16' : 'f32';
  const maxRows = Math.max(64, Math.floor(gpu.info.limits.maxStorageBufferBindingSize / (cols * 4) / 64) * 64);
  // an even number of rows per slice keeps every 16-bit slice's offset 4-byte aligned for writeBuffer
  const sliceRows = Math.max(2, Math.floor(sliceBytes / (cols * eb) / 2) * 2);
  let whole: Uint8Array<ArrayBuffer> | null = null;
  const readRows = async (r0: number, r: number): Promise<Uint8Array<ArrayBuffer>> => {
    if (ckpt.readRawRange) return ckpt.readRawRange(name, r0 * cols * eb, r * cols * eb);
    whole ??= await ckpt.readRaw(name);
    return whole.subarray(r0 * cols * eb, (r0 + r) * cols * eb);
  };
  const chunks: { tensor: Tensor; rowStart: number; rows: number }[] = [];
  const bad = { count: 0, first: -1 };
  try {
    for (let r0 = 0; r0 < rows; r0 += maxRows) {
      const r = Math.min(maxRows, rows - r0);
      const tensor = format === 'f32' ? gpu.tensor([r, cols], 'f32', name) : gpu.tensor([Math.ceil((r * cols * eb) / 4)], 'u32', name);
      chunks.push({ tensor, rowStart: r0, rows: r });
      for (let s0 = 0; s0 < r; s0 += sliceRows) {
        const n = Math.min(sliceRows, r - s0);
        const part = await readRows(r0 + s0, n);
        if (format !== 'f32' && check) {
          const bits = new Uint16Array(part.byteOffset % 2 === 0 ? part.buffer : part.slice().buffer, part.byteOffset % 2 === 0 ? part.byteOffset : 0, n * cols);
          const found = nonFinite16(bits, format);
          if (found.count > 0 && bad.first < 0) bad.first = (r0 + s0) * cols + found.first;
          bad.count += found.count;
        }
        gpu.write(tensor, part, (s0 * cols * eb) / 4);
      }
      if (format === 'f32') check?.add(name, tensor, r * cols, { base: r0 * cols, cols });
    }
  } catch (e) {
    for (const c of chunks) c.tensor.destroy();
    throw e;
  }
  if (bad.count > 0) check?.addFound({ what: name, count: bad.count, first: bad.first, cols });
  return format === 'f32' ? { rows, cols, chunks } : { rows, cols, chunks, format };
}

async function uploadVector(gpu: Gpu, ckpt: Checkpoint, name: string, check?: FiniteCheck): Promise<Tensor> {
  const info = ckpt.info(name);
  const raw = await ckpt.readRaw(name);
  const n = info.shape.reduce((a, b) => a * b, 1);
  const t = await uploadRows(gpu, raw, info.dtype, 1, n, name);
  check?.add(name, t, n);
  return t;
}
