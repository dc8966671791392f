#!/usr/bin/env python3
"""CPU (numpy, float32) reference scorer for the bundled minimal-pair tasks.

The same computation as the engine's `clams` scoring (src/eval/score.ts with src/model/llama.ts):
a Llama forward pass (RMSNorm, rotary embeddings as in Hugging Face `rotate_half`, grouped-query
causal attention, SwiGLU MLP, tied or separate LM head), the log-likelihood of each choice = sum of
log p of its continuation tokens after the BOS prefix, acc = share of items whose choice 0 scores
highest (first index on ties), stderr = sample sd / sqrt(n).

Why a second implementation: on the shared two-core machine the WGSL engine runs on Mesa lavapipe
at 0.1 to 0.4 items per second, too slow to score thousands of items for several pruned models;
numpy does the same forward pass 10 to 20 times faster. Its accuracy equals the engine's on every
item set both scored (`node tools/make-eval-tasks/card-tasks.mjs verify`: 26 earlier CLI results,
dense and Wanda 50 %, 25 to 60 items each; and test/bundled-tasks-gpu.test.ts's items).

Usage: python3 tools/make-eval-tasks/np_score.py <model dir> <task file>... [--limit N]
           [--cache <dir> --tag <model tag>]
       python3 tools/make-eval-tasks/np_score.py ppl <model dir> --out <file.json> [--windows 16]
           [--seqlen 64] [--langs ar,de,...]
The second form: held-out perplexity per language on the first `windows` non-overlapping windows of
`seqlen` tokens of the default model's eval text (cut from its eval-<lang>.safetensors, the eval
text tokenized once without BOS), each window predicting its tokens 1..n-1 (the engine's `chunks`
mode), as {lang: {ppl, meanNll, tokens}}.
With --cache, each task's result is written to <dir>/np-<tag>-<file stem>.json ({n, acc, acc_stderr,
correct: per-item 0/1, all: every item of the file scored}) and a task already there with at least N items
(or all of its items) is not scored again.
"""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'reference-common'))
from refcommon import read_safetensors  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class Llama:
    def __init__(self, model_dir):
        model_dir = Path(model_dir)
        cfg = json.loads((model_dir / 'config.json').read_text())
        self.cfg = cfg
        w = read_safetensors(model_dir / 'model.safetensors', ('F32',))
        self.w = w
        self.L = cfg['num_hidden_layers']
        self.H = cfg['num_attention_heads']
        self.KV = cfg['num_key_value_heads']
        self.D = cfg.get('head_dim') or cfg['hidden_size'] // self.H
        self.eps = cfg['rms_norm_eps']
        self.theta = cfg.get('rope_theta', 10000.0)
        self.max_pos = cfg['max_position_embeddings']
        self.embed = w['model.embed_tokens.weight']
        self.head = w.get('lm_head.weight', self.embed) if not cfg.get('tie_word_embeddings', False) else self.embed
        inv = 1.0 / (self.theta ** (np.arange(0, self.D, 2, dtype=np.float64) / self.D))
        ang = np.arange(self.max_pos, dtype=np.float64)[:, None] * inv[None, :]
        ang = np.concatenate([ang, ang], axis=1)
        self.cos = np.cos(ang).astype(np.float32)
        self.sin = np.sin(ang).astype(np.float32)

    def rms(self, x, g):
        return (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps)) * g

    def rope(self, x, T):
        # x: [B, heads, T, D]
        half = self.D // 2
        rot = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
        return x * self.cos[:T] + rot * self.sin[:T]

    def logprobs(self, ids, tgt):
        """ids, tgt: int arrays [B, T] -> log p(tgt[b, t] | ids[b, :t+1]) as float64 [B, T]."""
        B, T = ids.shape
        x = self.embed[ids]
        mask = np.triu(np.full((T, T), -np.inf, dtype=np.float32), 1)
        rep = self.H // self.KV
        for i in range(self.L):
            p = f'model.layers.{i}.'
            h = self.rms(x, self.w[p + 'input_layernorm.weight'])
            q = (h @ self.w[p + 'self_attn.q_proj.weight'].T).reshape(B, T, self.H, self.D).transpose(0, 2, 1, 3)
            k = (h @ self.w[p + 'self_attn.k_proj.weight'].T).reshape(B, T, self.KV, self.D).transpose(0, 2, 1, 3)
            v = (h @ self.w[p + 'self_attn.v_proj.weight'].T).reshape(B, T, self.KV, self.D).transpose(0, 2, 1, 3)
            q, k = self.rope(q, T), self.rope(k, T)
            k = np.repeat(k, rep, axis=1)
            v = np.repeat(v, rep, axis=1)
            s = (q @ k.transpose(0, 1, 3, 2)) / np.float32(math.sqrt(self.D)) + mask
            s = s - s.max(axis=-1, keepdims=True)
            e = np.exp(s)
            a = (e / e.sum(axis=-1, keepdims=True)) @ v
            x = x + a.transpose(0, 2, 1, 3).reshape(B, T, self.H * self.D) @ self.w[p + 'self_attn.o_proj.weight'].T
            h = self.rms(x, self.w[p + 'post_attention_layernorm.weight'])
            g = h @ self.w[p + 'mlp.gate_proj.weight'].T
            u = h @ self.w[p + 'mlp.up_proj.weight'].T
            x = x + ((g / (1 + np.exp(-g))) * u) @ self.w[p + 'mlp.down_proj.weight'].T
        x = self.rms(x, self.w['model.norm.weight']).reshape(B * T, -1)
        flat_t = tgt.reshape(-1)
        out = np.empty(B * T, dtype=np.float64)
        for a in range(0, B * T, 1024):
            logits = x[a:a + 1024] @ self.head.T
            m = logits.max(axis=-1, keepdims=True)
            lse = (m[:, 0] + np.log(np.exp(logits - m).sum(axis=-1))).astype(np.float64)
            out[a:a + 1024] = logits[np.arange(len(logits)), flat_t[a:a + 1024]].astype(np.float64) - lse
        return out.reshape(B, T)

    def seq_ll(self, seqs, batch_tokens=2048):
        """Sum of log p of tokens 1..n-1 of each sequence (cut from the left to max_pos + 1 tokens)."""
        seqs = [s[-(self.max_pos + 1):] for s in seqs]
        order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
        out = [0.0] * len(seqs)
        j = 0
        while j < len(order):
            T = len(seqs[order[j]]) - 1
            n = max(1, batch_tokens // max(T, 1))
            grp = order[j:j + n]
            j += n
            ids = np.zeros((len(grp), T), dtype=np.int64)
            tgt = np.zeros((len(grp), T), dtype=np.int64)
            for r, i in enumerate(grp):
                s = seqs[i]
                ids[r, :len(s) - 1] = s[:-1]
                tgt[r, :len(s) - 1] = s[1:]
            lp = self.logprobs(ids, tgt)
            for r, i in enumerate(grp):
                out[i] = float(lp[r, :len(seqs[i]) - 1].sum())
        return out


def score_items(model, items):
    flat = [s for it in items for s in it]
    ll = model.seq_ll(flat)
    k = 0
    correct = []
    for it in items:
        v = ll[k:k + len(it)]
        k += len(it)
        correct.append(1 if int(np.argmax(v)) == 0 else 0)
    n = len(correct)
    acc = sum(correct) / n
    se = math.sqrt(sum((c - acc) ** 2 for c in correct) / (n - 1)) / math.sqrt(n) if n > 1 else None
    return {'n': n, 'acc': acc, 'acc_stderr': se, 'correct': correct}


def load_ids(path):
    return read_safetensors(path, ('I32',))['input_ids']


def ppl_main(argv):
    opts = {'--windows': '16', '--seqlen': '64', '--langs': None, '--out': None}
    args = []
    i = 0
    while i < len(argv):
        if argv[i] in opts:
            opts[argv[i]] = argv[i + 1]; i += 2
        else:
            args.append(argv[i]); i += 1
    if len(args) != 1 or not opts['--out']:
        raise SystemExit(__doc__)
    model = Llama(args[0])
    data = ROOT / 'public/models/polyprune-ml'
    langs = opts['--langs'].split(',') if opts['--langs'] else json.loads((data / 'split.json').read_text())['languages']
    langs = list(langs) if isinstance(langs, list) else list(langs.keys())
    W, S = int(opts['--windows']), int(opts['--seqlen'])
    out = {}
    for lang in langs:
        stream = load_ids(data / f'eval-{lang}.safetensors').reshape(-1)
        if len(stream) < W * S:
            raise SystemExit(f'eval-{lang}.safetensors has {len(stream)} tokens, fewer than {W} x {S}')
        win = stream[:W * S].reshape(W, S).astype(np.int64)
        lp = model.logprobs(win[:, :-1], win[:, 1:])
        nll = -float(lp.sum()) / lp.size
        out[lang] = {'ppl': math.exp(nll), 'meanNll': nll, 'tokens': int(lp.size)}
    Path(opts['--out']).write_text(json.dumps(out))
    print(f"{args[0]}: " + ', '.join(f"{k} {v['ppl']:.1f}" for k, v in out.items()), flush=True)


def encode(model_dir, files):
    out = subprocess.run(['node', str(ROOT / 'tools/make-eval-tasks/encode-items.mjs'), str(model_dir), *map(str, files)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv):
    limit = None
    cache = None
    tag = None
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == '--limit':
            limit = int(argv[i + 1]); i += 2
        elif argv[i] == '--cache':
            cache = Path(argv[i + 1]); i += 2
        elif argv[i] == '--tag':
            tag = argv[i + 1]; i += 2
        else:
            args.append(argv[i]); i += 1
    if len(args) < 2:
        raise SystemExit(__doc__)
    model_dir, files = args[0], args[1:]
    if cache and not tag:
        raise SystemExit('--cache needs --tag')
    out_of = lambda f: cache / f'np-{tag}-{Path(f).name.rsplit(".", 1)[0]}.json'
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        # Done: at least `limit` items, or every item of the file (`all`: the file has fewer).
        done = lambda r: r['n'] >= (limit or 10**9) or r.get('all', False)
        files = [f for f in files if not (out_of(f).exists() and done(json.loads(out_of(f).read_text())))]
        if not files:
            return
    model = Llama(model_dir)
    enc = encode(model_dir, files)
    for t in enc['tasks']:
        items = t['items'][:limit] if limit else t['items']
        r = score_items(model, items)
        print(f"{tag or model_dir} {Path(t['file']).name}: acc {100 * r['acc']:.1f} ± {100 * (r['acc_stderr'] or 0):.1f} (n {r['n']})", flush=True)
        if cache:
            out_of(t['file']).write_text(json.dumps({'model': str(model_dir), 'file': Path(t['file']).name, 'all': r['n'] == len(t['items']), **r}))


if __name__ == '__main__':
    if sys.argv[1:2] == ['ppl']:
        ppl_main(sys.argv[2:])
    else:
        main(sys.argv[1:])
