#!/usr/bin/env python3
"""Sequential Wanda, float64 reference (numpy only), on a checkpoint in any float dtype (F32, BF16, F16).

Written from the method (locuslab/wanda `prune_wanda`: for each decoder layer, the dense layer's
inputs over the calibration windows give scaler_row[c] = mean over windows of sum_t x[t, c]^2; each
row of each linear keeps the (1 - sparsity) * K largest |W| * sqrt(scaler_row), ties broken toward
the lower column; the next layer's inputs are this layer's outputs with the pruned weights), with
the Llama forward of Hugging Face transformers (RMSNorm, rotate_half RoPE, GQA causal attention,
SwiGLU MLP, tied or separate head). Everything is float64 after reading the stored values, so on a
BF16 checkpoint this is the reference of "the same BF16 weights": what PolyPrune's packed path must
reproduce.

Usage: wanda_ref.py <model dir> <calib.safetensors> <eval.safetensors> <sparsity> <masks out.safetensors>
  calib/eval hold `input_ids` I32 [n, seqlen] (no BOS added). Writes `mask.<tensor>` U8 [N, K]
  (1 = kept) and prints JSON {"ppl": ..., "nll": mean NLL, "tokens": ...} of the pruned model on the
  eval windows (each window predicts its tokens 1..n-1).
Independent of PolyPrune's TypeScript: the safetensors reader of tools/reference-common, its own writer.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference-common"))
from refcommon import GROUP, LINEARS, pruned_mask, read_safetensors  # noqa: E402


def write_masks(path, masks):
    header = {}
    off = 0
    blobs = []
    for name in sorted(masks):
        m = np.ascontiguousarray(masks[name].astype(np.uint8))
        header[name] = {"dtype": "U8", "shape": list(m.shape), "data_offsets": [off, off + m.nbytes]}
        off += m.nbytes
        blobs.append(m.tobytes())
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class Llama:
    def __init__(self, model_dir):
        cfg = json.loads((Path(model_dir) / "config.json").read_text())
        if cfg.get("model_type") not in ("llama", "mistral", "qwen2"):
            raise SystemExit(f"model_type {cfg.get('model_type')} is not a Llama-family model")
        self.w = read_safetensors(Path(model_dir) / "model.safetensors", ("F32", "BF16", "F16"), float64=True)
        self.C = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.Hkv = cfg.get("num_key_value_heads", self.H)
        self.D = cfg.get("head_dim") or self.C // self.H
        self.L = cfg["num_hidden_layers"]
        self.eps = cfg["rms_norm_eps"]
        self.theta = cfg.get("rope_theta", 10000.0)
        self.head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def norm(self, x, w):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * w

    def rope(self, x, S):
        # x (B, S, heads, D), rotate_half
        half = self.D // 2
        inv = 1.0 / self.theta ** (np.arange(0, half, dtype=np.float64) * 2 / self.D)
        ang = np.arange(S, dtype=np.float64)[:, None] * inv[None, :]
        cos = np.concatenate([np.cos(ang)] * 2, axis=-1)[None, :, None, :]
        sin = np.concatenate([np.sin(ang)] * 2, axis=-1)[None, :, None, :]
        rot = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
        return x * cos + rot * sin

    def layer(self, i, x, capture=None):
        """x (B, S, C) -> (B, S, C); capture(name, input (B, S, K)) for the inputs of the linears."""
        p = f"model.layers.{i}."
        w = self.w
        B, S, C = x.shape

        def lin(name, v):
            W = w[f"{p}{name}.weight"]
            return (v.reshape(-1, v.shape[-1]) @ W.T).reshape(B, S, W.shape[0]) + w.get(f"{p}{name}.bias", 0.0)

        h = self.norm(x, w[p + "input_layernorm.weight"])
        if capture:
            capture("self_attn.q_proj", h)
        q = lin("self_attn.q_proj", h).reshape(B, S, self.H, self.D)
        k = lin("self_attn.k_proj", h).reshape(B, S, self.Hkv, self.D)
        v = lin("self_attn.v_proj", h).reshape(B, S, self.Hkv, self.D)
        q, k = self.rope(q, S), self.rope(k, S)
        rep = self.H // self.Hkv
        k = np.repeat(k, rep, axis=2)
        v = np.repeat(v, rep, axis=2)
        att = np.einsum("bshd,bthd->bhst", q, k) / np.sqrt(self.D)
        att = att + np.triu(np.full((S, S), -np.inf), 1)[None, None]
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("bhst,bthd->bshd", att, v).reshape(B, S, self.H * self.D)
        if capture:
            capture("self_attn.o_proj", o)
        x = x + lin("self_attn.o_proj", o)
        m = self.norm(x, w[p + "post_attention_layernorm.weight"])
        if capture:
            capture("mlp.gate_proj", m)
        g = lin("mlp.gate_proj", m)
        a = g / (1 + np.exp(-g)) * lin("mlp.up_proj", m)
        if capture:
            capture("mlp.down_proj", a)
        return x + lin("mlp.down_proj", a)

    def nll(self, ids):
        x = self.w["model.embed_tokens.weight"][ids]
        for i in range(self.L):
            x = self.layer(i, x)
        xn = self.norm(x, self.w["model.norm.weight"])
        logits = (xn.reshape(-1, self.C) @ self.head.T).reshape(x.shape[0], x.shape[1], -1)
        logits -= logits.max(-1, keepdims=True)
        lse = np.log(np.exp(logits).sum(-1))
        tgt = ids[:, 1:]
        picked = np.take_along_axis(logits[:, :-1], tgt[..., None], -1)[..., 0]
        return (lse[:, :-1] - picked).ravel()


def main():
    model_dir, calib_path, eval_path, sparsity, out = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
    m = Llama(model_dir)
    calib = read_safetensors(calib_path, ("I32",))["input_ids"].astype(np.int64)
    ev = read_safetensors(eval_path, ("I32",))["input_ids"].astype(np.int64)
    x = m.w["model.embed_tokens.weight"][calib]
    masks = {}
    for i in range(m.L):
        scaler = {}

        def cap(name, inp):
            scaler[name] = np.mean(np.sum(inp * inp, axis=1), axis=0)  # mean over windows of sum over tokens

        m.layer(i, x, cap)
        for name in LINEARS:
            t = f"model.layers.{i}.{name}.weight"
            W = m.w[t]
            # kept: all but the row's int(K * sparsity) smallest scores (stable: of equal scores the lower column is pruned first)
            mask = ~pruned_mask(np.abs(W) * np.sqrt(scaler[GROUP[name]])[None, :], sparsity)
            m.w[t] = np.where(mask, W, 0.0)
            masks["mask." + t] = mask
        x = m.layer(i, x)
    write_masks(out, masks)
    nll = m.nll(ev)
    print(json.dumps({"ppl": float(np.exp(nll.mean())), "nll": float(nll.mean()), "tokens": int(nll.size)}))


if __name__ == "__main__":
    main()
