#!/usr/bin/env python3
"""Independent float64 reference of the Cohere decoder (CohereForCausalLM: Command-R, Aya-23) and of
Wanda pruning on it, in plain numpy. PolyPrune's tests compare the WGSL engine against it
(test/model/cohere.test.ts).

What it follows, line by line:
- transformers src/transformers/models/cohere/modeling_cohere.py (v4.5x):
  CohereLayerNorm (mean-centred, weight only, eps = layer_norm_eps), CohereRotaryEmbedding
  (inv_freq = 1 / theta^(2i/D); emb = repeat_interleave(freqs, 2): pairs, not halves), rotate_half
  (x1 = x[..., ::2], x2 = x[..., 1::2], stack([-x2, x1]).flatten), CohereAttention (optional per-head
  q_norm/k_norm of shape (H, D)/(Hkv, D) before RoPE, GQA repeat_kv, scaling D^-0.5, causal softmax),
  CohereMLP (down(silu(gate(x)) * up(x))), CohereDecoderLayer (one input_layernorm;
  x + attn(ln(x)) + mlp(ln(x))), CohereModel (final norm), CohereForCausalLM (logits * logit_scale,
  lm_head tied to embed_tokens by default).
- locuslab/wanda lib/prune.py prune_wanda and lib/layerwrapper.py WrappedGPT: per decoder layer, the
  inputs of every linear are captured during a dense forward of each calibration window;
  scaler_row = mean over windows of the squared L2 norm of each input feature; metric |W| * sqrt(scaler_row);
  unstructured: per row, the int(K * sparsity) smallest (stable sort) are pruned; N:M: in each group of
  M columns the M - N smallest (topk largest=False) are pruned; then the layer's outputs are recomputed
  with the pruned weights and feed the next layer. scaler_row is computed here as the plain float64 mean
  (the reference's running update is the same quantity).

Usage:
  cohere_ref.py MODEL_DIR JOB.json OUT_DIR
JOB.json: {"eval": [[ids...], ...]                      sequences whose logits are written
           "calib": [[ids...], ...] (optional)          calibration windows for Wanda
           "sparsity": 0.5 | "nm": [2, 4] (optional)}
Writes OUT_DIR/logits.f64 (dense logits of every eval sequence, concatenated, little endian float64),
and with "calib": OUT_DIR/masks.u8 (1 = pruned, per layer in the order q,k,v,o,gate,up,down, row-major
[out, in]) and OUT_DIR/pruned_logits.f64.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'reference-common'))
from refcommon import LINEARS, pruned_mask, read_safetensors, sq_norms, sum_inputs  # noqa: E402


class Cohere:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, 'config.json')) as f:
            c = json.load(f)
        assert c['model_type'] == 'cohere', c['model_type']
        self.C = c['hidden_size']
        self.H = c['num_attention_heads']
        self.Hkv = c.get('num_key_value_heads') or self.H
        self.D = c.get('head_dim') or self.C // self.H
        self.L = c['num_hidden_layers']
        self.eps = c.get('layer_norm_eps', 1e-5)
        self.theta = c.get('rope_theta', 10000.0)
        self.logit_scale = c.get('logit_scale', 0.0625)
        self.qk_norm = c.get('use_qk_norm', False)
        self.tied = c.get('tie_word_embeddings', True)
        self.bias = c.get('attention_bias', False)
        self.w = read_safetensors(os.path.join(model_dir, 'model.safetensors'), ('F32', 'F16', 'BF16'), float64=True)

    def p(self, i, name):
        return self.w[f'model.layers.{i}.{name}']

    @staticmethod
    def layernorm(x, w, eps):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return w * ((x - mean) / np.sqrt(var + eps))

    def rope(self, x, S):
        # x (S, heads, D)
        inv_freq = 1.0 / (self.theta ** (np.arange(0, self.D, 2, dtype=np.float64) / self.D))
        freqs = np.arange(S, dtype=np.float64)[:, None] * inv_freq[None, :]
        emb = np.repeat(freqs, 2, axis=-1)  # repeat_interleave: (f0, f0, f1, f1, ...)
        cos = np.cos(emb)[:, None, :]
        sin = np.sin(emb)[:, None, :]
        x1 = x[..., ::2]
        x2 = x[..., 1::2]
        rot = np.stack([-x2, x1], axis=-1).reshape(x.shape)
        return x * cos + rot * sin

    def linear(self, x, i, name, weights):
        y = x @ weights[f'model.layers.{i}.{name}.weight'].T
        b = f'model.layers.{i}.{name}.bias'
        if b in self.w:
            y = y + self.w[b]
        return y

    def layer(self, i, x, weights, capture=None):
        """One decoder layer on one sequence x (S, C); capture(name, input) sees every linear's input."""
        S = x.shape[0]
        H, Hkv, D = self.H, self.Hkv, self.D
        h = self.layernorm(x, self.p(i, 'input_layernorm.weight'), self.eps)
        if capture:
            for n in LINEARS[:3] + LINEARS[4:6]:
                capture(n, h)
        q = self.linear(h, i, 'self_attn.q_proj', weights).reshape(S, H, D)
        k = self.linear(h, i, 'self_attn.k_proj', weights).reshape(S, Hkv, D)
        v = self.linear(h, i, 'self_attn.v_proj', weights).reshape(S, Hkv, D)
        if self.qk_norm:
            q = self.layernorm(q, self.p(i, 'self_attn.q_norm.weight'), self.eps)
            k = self.layernorm(k, self.p(i, 'self_attn.k_norm.weight'), self.eps)
        q = self.rope(q, S)
        k = self.rope(k, S)
        rep = H // Hkv
        k = np.repeat(k, rep, axis=1)  # repeat_kv: head h uses kv head h // rep
        v = np.repeat(v, rep, axis=1)
        scores = np.einsum('shd,thd->hst', q, k) * D ** -0.5
        mask = np.triu(np.ones((S, S), dtype=bool), 1)
        scores[:, mask] = -np.inf
        scores = scores - scores.max(-1, keepdims=True)
        pr = np.exp(scores)
        pr = pr / pr.sum(-1, keepdims=True)
        att = np.einsum('hst,thd->shd', pr, v).reshape(S, H * D)
        if capture:
            capture('self_attn.o_proj', att)
        attn_out = self.linear(att, i, 'self_attn.o_proj', weights)
        g = self.linear(h, i, 'mlp.gate_proj', weights)
        u = self.linear(h, i, 'mlp.up_proj', weights)
        a = g / (1.0 + np.exp(-g)) * u
        if capture:
            capture('mlp.down_proj', a)
        mlp_out = self.linear(a, i, 'mlp.down_proj', weights)
        return x + attn_out + mlp_out

    def logits(self, ids, weights):
        x = self.w['model.embed_tokens.weight'][np.asarray(ids)]
        for i in range(self.L):
            x = self.layer(i, x, weights)
        x = self.layernorm(x, self.w['model.norm.weight'], self.eps)
        head = self.w['model.embed_tokens.weight'] if self.tied else self.w['lm_head.weight']
        return (x @ head.T) * self.logit_scale

    def wanda(self, calib, sparsity, nm):
        weights = dict(self.w)
        masks = []
        xs = [self.w['model.embed_tokens.weight'][np.asarray(ids)] for ids in calib]
        for i in range(self.L):
            sums = sum_inputs(lambda x, capture: self.layer(i, x, weights, capture), xs, sq_norms)
            for name in LINEARS:
                key = f'model.layers.{i}.{name}.weight'
                W = weights[key].copy()
                scaler = sums[name] / len(calib)
                mask = pruned_mask(np.abs(W) * np.sqrt(scaler)[None, :], sparsity, nm)
                W[mask] = 0
                weights[key] = W
                masks.append(mask.astype(np.uint8).ravel())
            xs = [self.layer(i, x, weights) for x in xs]
        return weights, np.concatenate(masks)


def main():
    if len(sys.argv) != 4:
        raise SystemExit('usage: cohere_ref.py MODEL_DIR JOB.json OUT_DIR')
    model_dir, job_path, out_dir = sys.argv[1:]
    with open(job_path) as f:
        job = json.load(f)
    m = Cohere(model_dir)
    os.makedirs(out_dir, exist_ok=True)
    dense = np.concatenate([m.logits(ids, m.w).ravel() for ids in job['eval']])
    dense.astype('<f8').tofile(os.path.join(out_dir, 'logits.f64'))
    if job.get('calib'):
        nm = tuple(job['nm']) if job.get('nm') else None
        weights, masks = m.wanda(job['calib'], job.get('sparsity', 0.5), nm)
        masks.tofile(os.path.join(out_dir, 'masks.u8'))
        pruned = np.concatenate([m.logits(ids, weights).ravel() for ids in job['eval']])
        pruned.astype('<f8').tofile(os.path.join(out_dir, 'pruned_logits.f64'))


if __name__ == '__main__':
    main()
