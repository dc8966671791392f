"""A minimal Llama (HF LlamaForCausalLM semantics) in plain PyTorch.

Shape letters: B batch, T tokens, C hidden, H heads, Hkv kv heads, D head dim, F ffn, V vocab, L layers.
Semantics follow transformers' modeling_llama: RMSNorm computed in fp32 as x * rsqrt(mean(x^2) + eps)
times weight; RoPE with inv_freq = theta^(-2i/D), cos/sin of cat(freqs, freqs) and the rotate_half
convention; causal softmax attention scaled by 1/sqrt(D) with kv heads repeated H/Hkv times; SwiGLU
MLP down(silu(gate(x)) * up(x)); no biases; lm_head tied to embed_tokens when tie_word_embeddings.
State dict keys are the HF names (model.embed_tokens.weight, model.layers.N..., model.norm.weight).
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class LlamaConfig:
    vocab_size: int = 8192
    hidden_size: int = 256
    intermediate_size: int = 704
    num_hidden_layers: int = 6
    num_attention_heads: int = 8
    num_key_value_heads: int = 4
    max_position_embeddings: int = 512
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = True
    bos_token_id: int = 1
    eos_token_id: int = 2

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads

    def to_hf(self):
        return {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "vocab_size": self.vocab_size,
            "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "hidden_act": "silu",
            "tie_word_embeddings": self.tie_word_embeddings,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
            "torch_dtype": "float32",
            "attention_bias": False,
            "mlp_bias": False,
        }


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))  # (C,)
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def rope_cos_sin(cfg, T, device=None):
    D = cfg.head_dim
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))  # (D/2,)
    pos = torch.arange(T, dtype=torch.float32)
    freqs = torch.outer(pos, inv_freq)  # (T, D/2)
    emb = torch.cat((freqs, freqs), dim=-1)  # (T, D)
    return emb.cos().to(device), emb.sin().to(device)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def causal_attention(q, k, v, mask, scale):
    """softmax(q k^T * scale + mask) v for q (B, H, T, D) and k, v (B, Hkv, T, D).

    Query head h uses kv head h // (H / Hkv) (HF repeat_kv). Debian's CPU torch (BLAS_INFO=generic)
    runs batched matmul at a few GFLOP/s, so the per-(b, h) products go through plain 2-D matmuls
    (BLAS); unbind/stack keep the backward pass cheap."""
    B, H, T, D = q.shape
    Hkv = k.shape[1]
    rep = H // Hkv
    qs = (q * scale).reshape(B * H, T, D).unbind(0)
    ks = k.reshape(B * Hkv, T, D).unbind(0)
    vs = v.reshape(B * Hkv, T, D).unbind(0)
    kv = [(i // H) * Hkv + (i % H) // rep for i in range(B * H)]
    att = torch.stack([qi @ ks[j].t() for qi, j in zip(qs, kv)]) + mask  # (B*H, T, T)
    att = F.softmax(att.float(), dim=-1).to(q.dtype)
    y = torch.stack([ai @ vs[j] for ai, j in zip(att.unbind(0), kv)])  # (B*H, T, D)
    return y.view(B, H, T, D)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, H, Hkv, D = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.H, self.Hkv, self.D = H, Hkv, D
        self.q_proj = nn.Linear(C, H * D, bias=False)
        self.k_proj = nn.Linear(C, Hkv * D, bias=False)
        self.v_proj = nn.Linear(C, Hkv * D, bias=False)
        self.o_proj = nn.Linear(H * D, C, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.D).transpose(1, 2)  # (B, H, T, D)
        k = self.k_proj(x).view(B, T, self.Hkv, self.D).transpose(1, 2)  # (B, Hkv, T, D)
        v = self.v_proj(x).view(B, T, self.Hkv, self.D).transpose(1, 2)  # (B, Hkv, T, D)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        y = causal_attention(q, k, v, mask, 1.0 / math.sqrt(self.D))  # (B, H, T, D)
        y = y.transpose(1, 2).reshape(B, T, self.H * self.D)  # (B, T, C)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, Fh = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = nn.Linear(C, Fh, bias=False)
        self.up_proj = nn.Linear(C, Fh, bias=False)
        self.down_proj = nn.Linear(Fh, C, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        self._rope = {}
        self.reset_parameters()

    def reset_parameters(self):
        std = 0.02
        resid_std = std / math.sqrt(2 * self.cfg.num_hidden_layers)
        for name, p in self.named_parameters():
            if name.endswith("layernorm.weight") or name == "model.norm.weight":
                nn.init.ones_(p)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=resid_std)
            else:
                nn.init.normal_(p, mean=0.0, std=std)

    def rope(self, T, device):
        key = (T, str(device))
        if key not in self._rope:
            cos, sin = rope_cos_sin(self.cfg, T, device)
            mask = torch.full((T, T), float("-inf"), device=device).triu(1)
            self._rope[key] = (cos, sin, mask)
        return self._rope[key]

    def forward(self, ids):  # ids (B, T) -> logits (B, T, V)
        T = ids.shape[1]
        cos, sin, mask = self.rope(T, ids.device)
        x = self.model.embed_tokens(ids)  # (B, T, C)
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.model.norm(x))

    def hf_state_dict(self):
        """Tensors under their HF names; lm_head.weight omitted when tied."""
        sd = {k: v.detach().float().contiguous() for k, v in self.state_dict().items()}
        if self.cfg.tie_word_embeddings:
            sd.pop("lm_head.weight")
        return sd


def count_params(model):
    return sum(p.numel() for p in model.parameters())


class ChunkedLMHeadCrossEntropy(torch.autograd.Function):
    """mean cross entropy of (x @ W^T) against targets, computed in row chunks.

    The gradients are formed chunk by chunk during the forward pass (softmax - onehot), so the
    (N, V) logits never exist as a whole; this is 25-30 % faster on two CPU cores than
    lm_head + F.cross_entropy and gives the same loss and gradients up to float rounding."""

    @staticmethod
    def forward(ctx, x, w, targets, chunk):  # x (N, C), w (V, C), targets (N,)
        N = x.shape[0]
        gx = torch.empty_like(x)
        gw = torch.zeros_like(w)
        total = torch.zeros((), dtype=torch.float64)
        for s in range(0, N, chunk):
            xc = x[s:s + chunk]
            tc = targets[s:s + chunk]
            logits = xc @ w.t()  # (n, V)
            m = logits.max(dim=1, keepdim=True).values
            target_logit = logits.gather(1, tc[:, None])
            e = logits.sub_(m).exp_()
            se = e.sum(dim=1, keepdim=True)
            total += (se.log() + m - target_logit).sum().double()
            p = e.div_(se)
            p[torch.arange(p.shape[0]), tc] -= 1.0
            gx[s:s + chunk] = p @ w
            gw.addmm_(p.t(), xc)
        ctx.save_for_backward(gx, gw)
        ctx.n = N
        return (total / N).float()

    @staticmethod
    def backward(ctx, grad):
        gx, gw = ctx.saved_tensors
        scale = grad / ctx.n
        return gx * scale, gw * scale, None, None


def lm_loss(model, ids, targets, chunk=512):
    """Training loss: mean next-token cross entropy; ids, targets (B, T)."""
    T = ids.shape[1]
    cos, sin, mask = model.rope(T, ids.device)
    x = model.model.embed_tokens(ids)
    for layer in model.model.layers:
        x = layer(x, cos, sin, mask)
    x = model.model.norm(x)
    C = x.shape[-1]
    return ChunkedLMHeadCrossEntropy.apply(x.reshape(-1, C), model.lm_head.weight, targets.reshape(-1), chunk)
