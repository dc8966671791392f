#!/usr/bin/env python3
"""Independent float64 reference of RIA pruning (Relative Importance and Activations) on a Llama
checkpoint, in plain numpy. PolyPrune's tests compare the WGSL engine's masks against it
(test/prune/riaReference.test.ts).

RIA: Zhang, Bai, Lin, Zhao, Hou & Cannistraci, "Plug-and-Play: An Efficient Post-training Pruning
Method for Large Language Models", ICLR 2024. Written from the paper (section 3: relative importance
RI_ij = |W_ij| / sum_k |W_kj| + |W_ij| / sum_k |W_ik|, times the activation term ||X_j||_2^a) and
from the authors' code, biomedical-cybernetics/Relative-importance-and-activation-pruning:
- lib/prune.py `prune_ria`: per decoder layer, the inputs of every linear are captured during a forward
  of each calibration window through the layer (earlier layers already pruned); then every linear is
  pruned with
      W_metric = (|W| / sum(|W|, dim=0) + |W| / sum(|W|, dim=1)[:, None]) * sqrt(scaler_row)[None, :] ** a
  (a = `--a`, default 0.5); unstructured with `--per_outneuron` ("Wanda's tactic"): per output row
  the int(K * sparsity) smallest of a stable sort are pruned; N:M ("2:4" = prune 2 of every 4): in each
  group of M consecutive columns the N smallest (topk largest=False) are pruned; then the layer's
  outputs are recomputed with the pruned weights and feed the next layer.
- lib/layerwrapper.py `WrappedGPT.add_batch`: scaler_row = mean over windows of the squared L2 norm of
  each input feature over the window's tokens (computed here as the plain float64 mean; the running
  update is the same quantity).
Precision: everything is float64 (score_dtype "float32" forms the score in float32 after float64
sums, as prune_ria does in torch for a float32 model). Scores of two weights of a row can be closer
than float32 resolves (a relative gap of 2e-7 occurs in the bundled model), and there the ranking of
any float32 implementation, the authors' and PolyPrune's included, is decided by rounding: the
.gaps output lets a comparison recognise those ties.
Where the reference would divide 0 by 0 (a column or row of zeros) the term is taken as 0, as
PolyPrune does. Not reproduced: the reference's per-matrix unstructured threshold (its default without
`--per_outneuron`) and the N:M channel permutation (`--reallocation`, `--lsa`).

The Llama decoder (transformers modeling_llama.py): RMSNorm x / sqrt(mean(x^2) + eps) * g, rotary
embedding with rotate_half (halves) and inv_freq = 1 / theta^(2i/D), grouped-query causal attention
with scaling D^-0.5, SwiGLU MLP down(silu(gate(x)) * up(x)), pre-norm residual blocks. Float32
safetensors only; no biases, no RoPE scaling (refused).

Usage:
  ria_ref.py MODEL_DIR JOB.json OUT_FILE
JOB.json: {"calib": [[ids...], ...], "sparsity": 0.5 | "nm": [n_kept, m], "alpha": 0.5 (optional),
           "score_dtype": "float64" (default) | "float32",
           "stats": [{linear: [scaler_row...]}, ...] per layer (optional: PolyPrune's own statistics,
           used instead of this reference's forward; then only the score and the selection are checked)}
  (nm uses PolyPrune's convention: n weights KEPT of every m.)
Writes OUT_FILE: the masks (1 = pruned), uint8, per layer in the order q, k, v, o, gate, up, down,
row-major [out, in]; and OUT_FILE.gaps (float64, same order): for every row (unstructured) or every
group of M (N:M) the relative gap (smallest kept - largest pruned) / smallest kept of its scores, so
a comparison can tell a real difference from a tie that float32 cannot resolve.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'reference-common'))
from refcommon import GROUP, LINEARS, pruned_mask, read_safetensors, sq_norms, sum_inputs  # noqa: E402


def ria_score(W, scaler, alpha, dtype):
    """(|W| / column sums + |W| / row sums) * sqrt(scaler)^alpha. The sums and the activation term are
    formed in float64 and rounded once to `dtype`; the divisions, the sum of the two terms and the
    product are then done in `dtype` (float32: as prune_ria does in torch for a float32 checkpoint;
    float64: the exact score)."""
    A = np.abs(W)
    col = A.sum(0).astype(dtype)
    row = A.sum(1).astype(dtype)
    act = (np.sqrt(scaler) ** alpha).astype(dtype)
    A = A.astype(dtype)
    t1 = np.divide(A, col[None, :], out=np.zeros_like(A), where=col[None, :] > 0)
    t2 = np.divide(A, row[:, None], out=np.zeros_like(A), where=row[:, None] > 0)
    return (t1 + t2) * act[None, :]


class Llama:
    def __init__(self, model_dir, score_dtype=np.float64):
        self.score_dtype = score_dtype
        d = Path(model_dir)
        cfg = json.loads((d / 'config.json').read_text())
        if cfg.get('rope_scaling'):
            raise SystemExit('rope_scaling is not supported by this reference')
        self.w = read_safetensors(d / 'model.safetensors', ('F32',), float64=True)
        self.L = cfg['num_hidden_layers']
        self.H = cfg['num_attention_heads']
        self.Hkv = cfg.get('num_key_value_heads', self.H)
        self.D = cfg.get('head_dim') or cfg['hidden_size'] // self.H
        self.eps = cfg['rms_norm_eps']
        self.theta = cfg.get('rope_theta', 10000.0)

    def p(self, i, name):
        return self.w[f'model.layers.{i}.{name}']

    def rms(self, x, g):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * g

    def rope(self, x, S):
        # x: (S, heads, D); rotate_half on halves
        inv = 1.0 / (self.theta ** (np.arange(0, self.D, 2, dtype=np.float64) / self.D))
        ang = np.arange(S, dtype=np.float64)[:, None] * inv[None, :]
        ang = np.concatenate([ang, ang], axis=1)[:, None, :]
        half = self.D // 2
        rot = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
        return x * np.cos(ang) + rot * np.sin(ang)

    def layer(self, i, x, weights, capture=None):
        """One decoder layer on one window x (S, C); capture(name, input) sees every linear's input."""
        S = x.shape[0]
        H, Hkv, D = self.H, self.Hkv, self.D
        W = lambda n: weights[f'model.layers.{i}.{n}.weight']
        h = self.rms(x, self.p(i, 'input_layernorm.weight'))
        if capture:
            capture('self_attn.q_proj', h)
        q = self.rope((h @ W('self_attn.q_proj').T).reshape(S, H, D), S)
        k = self.rope((h @ W('self_attn.k_proj').T).reshape(S, Hkv, D), S)
        v = (h @ W('self_attn.v_proj').T).reshape(S, Hkv, D)
        rep = H // Hkv
        k = np.repeat(k, rep, axis=1)
        v = np.repeat(v, rep, axis=1)
        s = np.einsum('shd,thd->hst', q, k) * D ** -0.5
        s[:, np.triu(np.ones((S, S), dtype=bool), 1)] = -np.inf
        s = s - s.max(-1, keepdims=True)
        e = np.exp(s)
        att = np.einsum('hst,thd->shd', e / e.sum(-1, keepdims=True), v).reshape(S, H * D)
        if capture:
            capture('self_attn.o_proj', att)
        x = x + att @ W('self_attn.o_proj').T
        h = self.rms(x, self.p(i, 'post_attention_layernorm.weight'))
        if capture:
            capture('mlp.gate_proj', h)
        g = h @ W('mlp.gate_proj').T
        u = h @ W('mlp.up_proj').T
        a = g / (1.0 + np.exp(-g)) * u
        if capture:
            capture('mlp.down_proj', a)
        return x + a @ W('mlp.down_proj').T

    def ria(self, calib, sparsity, nm, alpha, stats=None):
        """Masks of the sequential RIA run. With `stats` (stats[layer][linear] = scaler_row) the given
        statistics are used instead of this forward's (then no forward runs)."""
        weights = dict(self.w)
        masks = []
        gaps = []
        xs = [] if stats else [self.w['model.embed_tokens.weight'][np.asarray(ids)] for ids in calib]
        for i in range(self.L):
            sums = sum_inputs(lambda x, capture: self.layer(i, x, weights, capture), xs, sq_norms)
            for name in LINEARS:
                key = f'model.layers.{i}.{name}.weight'
                Wm = weights[key].copy()
                scaler = np.asarray(stats[i][name], dtype=np.float64) if stats else sums[GROUP[name]] / len(calib)
                metric = ria_score(Wm, scaler, alpha, self.score_dtype)
                mask = pruned_mask(metric, sparsity, nm)
                if nm:
                    n, m = nm
                    g = np.sort(metric.reshape(Wm.shape[0], -1, m), axis=2)
                    lo, hi = g[:, :, m - n - 1], g[:, :, m - n]
                else:
                    k = int(Wm.shape[1] * sparsity)
                    srt = np.sort(metric, axis=1)
                    lo, hi = srt[:, max(k - 1, 0)], srt[:, min(k, Wm.shape[1] - 1)]
                # relative gap between the largest pruned and the smallest kept score of every row (group)
                gaps.append(np.divide(hi - lo, hi, out=np.zeros_like(hi, dtype=np.float64), where=hi > 0).astype(np.float64).ravel())
                Wm[mask] = 0
                weights[key] = Wm
                masks.append(mask.astype(np.uint8).ravel())
            xs = [self.layer(i, x, weights) for x in xs]
        return np.concatenate(masks), np.concatenate(gaps)


def main():
    if len(sys.argv) != 4:
        raise SystemExit('usage: ria_ref.py MODEL_DIR JOB.json OUT_FILE')
    model_dir, job_path, out = sys.argv[1:]
    job = json.loads(Path(job_path).read_text())
    nm = tuple(job['nm']) if job.get('nm') else None
    score_dtype = {'float32': np.float32, 'float64': np.float64}[job.get('score_dtype', 'float64')]
    masks, gaps = Llama(model_dir, score_dtype).ria(job.get('calib', []), job.get('sparsity', 0.5), nm, job.get('alpha', 0.5), job.get('stats'))
    masks.tofile(out)
    gaps.astype('<f8').tofile(out + '.gaps')


if __name__ == '__main__':
    main()
