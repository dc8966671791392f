/**
 * Plain-TypeScript reference forward of a Llama-family decoder, float64 accumulation, for tests of the
 * WGSL kernels and of everything built on them. Slow; use it on small models only.
 */
export interface ReferenceDims {
  hiddenSize: number; // C
  intermediateSize: number; // F
  numLayers: number; // L
  numHeads: number; // H
  numKvHeads: number; // Hkv
  headDim: number; // D
  vocabSize: number; // V
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  attentionBias: boolean;
}

/** Weights by Hugging Face tensor name, as f32 arrays. */
export interface CpuModel {
  dims: ReferenceDims;
  invFreq: Float32Array; // (D/2)
  weights: ReadonlyMap<string, Float32Array>;
}

/** y (M, N) = x (M, K) W^T (N, K) [+ b], float64 accumulation. */
export function refLinear(x: Float32Array, M: number, K: number, w: Float32Array, N: number, b?: Float32Array): Float32Array {
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[m * K + k] * w[n * K + k];
      y[m * N + n] = s + (b ? b[n] : 0);
    }
  }
  return y;
}

export function refRmsnorm(x: Float32Array, T: number, C: number, w: Float32Array, eps: number): Float32Array {
  const y = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[t * C + c] ** 2;
    const inv = 1 / Math.sqrt(s / C + eps);
    for (let c = 0; c < C; c++) y[t * C + c] = w[c] * (x[t * C + c] * inv);
  }
  return y;
}

/** In place, rotate_half convention, positions t mod S. v: (T, heads*D). */
export function refRope(v: Float32Array, T: number, S: number, heads: number, D: number, invFreq: Float32Array): void {
  const half = D / 2;
  for (let t = 0; t < T; t++) {
    const pos = t % S;
    for (let h = 0; h < heads; h++) {
      const base = t * heads * D + h * D;
      for (let i = 0; i < half; i++) {
        const ang = pos * invFreq[i];
        const c = Math.cos(ang);
        const s = Math.sin(ang);
        const a = v[base + i];
        const b = v[base + i + half];
        v[base + i] = a * c - b * s;
        v[base + i + half] = b * c + a * s;
      }
    }
  }
}

/** Causal GQA attention over sequences of S tokens. */
export function refAttention(q: Float32Array, k: Float32Array, v: Float32Array, T: number, S: number, H: number, Hkv: number, D: number): Float32Array {
  const o = new Float32Array(T * H * D);
  const scale = 1 / Math.sqrt(D);
  const rep = H / Hkv;
  const sc = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    const s0 = Math.floor(t / S) * S;
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / rep);
      let mx = -Infinity;
      for (let j = s0; j <= t; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[t * H * D + h * D + d] * k[j * Hkv * D + g * D + d];
        sc[j - s0] = s * scale;
        mx = Math.max(mx, sc[j - s0]);
      }
      let sum = 0;
      for (let j = s0; j <= t; j++) {
        sc[j - s0] = Math.exp(sc[j - s0] - mx);
        sum += sc[j - s0];
      }
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = s0; j <= t; j++) acc += sc[j - s0] * v[j * Hkv * D + g * D + d];
        o[t * H * D + h * D + d] = acc / sum;
      }
    }
  }
  return o;
}

export interface RefLayerInputs {
  /** Input of q/k/v (T, C), of o_proj (T, H*D), of gate/up (T, C), of down_proj (T, F). */
  attnIn: Float32Array;
  oIn: Float32Array;
  mlpIn: Float32Array;
  downIn: Float32Array;
}

/** One decoder layer: x (T, C) -> new x. Returns the inputs of the linear layers too. */
export function refLayer(m: CpuModel, i: number, x: Float32Array, T: number, S: number): { out: Float32Array; inputs: RefLayerInputs } {
  const { hiddenSize: C, numHeads: H, numKvHeads: Hkv, headDim: D, intermediateSize: F, rmsNormEps: eps } = m.dims;
  const w = (n: string) => {
    const t = m.weights.get(`model.layers.${i}.${n}`);
    if (!t) throw new Error(`reference: missing model.layers.${i}.${n}`);
    return t;
  };
  const b = (n: string) => (m.dims.attentionBias ? m.weights.get(`model.layers.${i}.${n}`) : undefined);
  const attnIn = refRmsnorm(x, T, C, w('input_layernorm.weight'), eps);
  const q = refLinear(attnIn, T, C, w('self_attn.q_proj.weight'), H * D, b('self_attn.q_proj.bias'));
  const k = refLinear(attnIn, T, C, w('self_attn.k_proj.weight'), Hkv * D, b('self_attn.k_proj.bias'));
  const v = refLinear(attnIn, T, C, w('self_attn.v_proj.weight'), Hkv * D, b('self_attn.v_proj.bias'));
  refRope(q, T, S, H, D, m.invFreq);
  refRope(k, T, S, Hkv, D, m.invFreq);
  const oIn = refAttention(q, k, v, T, S, H, Hkv, D);
  const attnOut = refLinear(oIn, T, H * D, w('self_attn.o_proj.weight'), C);
  const h = new Float32Array(T * C);
  for (let j = 0; j < h.length; j++) h[j] = x[j] + attnOut[j];
  const mlpIn = refRmsnorm(h, T, C, w('post_attention_layernorm.weight'), eps);
  const gate = refLinear(mlpIn, T, C, w('mlp.gate_proj.weight'), F);
  const up = refLinear(mlpIn, T, C, w('mlp.up_proj.weight'), F);
  const downIn = new Float32Array(T * F);
  for (let j = 0; j < downIn.length; j++) downIn[j] = (gate[j] / (1 + Math.exp(-gate[j]))) * up[j];
  const down = refLinear(downIn, T, F, w('mlp.down_proj.weight'), C);
  const out = new Float32Array(T * C);
  for (let j = 0; j < out.length; j++) out[j] = h[j] + down[j];
  return { out, inputs: { attnIn, oIn, mlpIn, downIn } };
}

export function refEmbed(m: CpuModel, ids: Int32Array): Float32Array {
  const C = m.dims.hiddenSize;
  const emb = m.weights.get('model.embed_tokens.weight')!;
  const x = new Float32Array(ids.length * C);
  ids.forEach((id, t) => x.set(emb.subarray(id * C, id * C + C), t * C));
  return x;
}

/** Logits (T, V) for token ids (one sequence of length T, or B sequences of S with T = B*S). */
export function cpuLogits(m: CpuModel, ids: Int32Array, S = ids.length): Float32Array {
  const T = ids.length;
  let x = refEmbed(m, ids);
  for (let i = 0; i < m.dims.numLayers; i++) x = refLayer(m, i, x, T, S).out;
  const hN = refRmsnorm(x, T, m.dims.hiddenSize, m.weights.get('model.norm.weight')!, m.dims.rmsNormEps);
  const head = m.dims.tieWordEmbeddings ? m.weights.get('model.embed_tokens.weight')! : m.weights.get('lm_head.weight')!;
  return refLinear(hN, T, m.dims.hiddenSize, head, m.dims.vocabSize);
}

/** NLL of tokens 1..T-1 of one sequence given their prefix (natural log, float64 log-softmax). */
export function cpuTokenNll(m: CpuModel, ids: Int32Array): Float64Array {
  const V = m.dims.vocabSize;
  const logits = cpuLogits(m, ids);
  const out = new Float64Array(ids.length - 1);
  for (let t = 0; t + 1 < ids.length; t++) {
    let mx = -Infinity;
    for (let c = 0; c < V; c++) mx = Math.max(mx, logits[t * V + c]);
    let s = 0;
    for (let c = 0; c < V; c++) s += Math.exp(logits[t * V + c] - mx);
    out[t] = mx + Math.log(s) - logits[t * V + ids[t + 1]];
  }
  return out;
}
