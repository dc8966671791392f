#!/usr/bin/env python3
"""Independent float64 reference of GPTQ weight quantization on a Llama checkpoint, in plain numpy.
PolyPrune's tests compare the WGSL engine's codes, scales, zeros and perplexity against it
(test/prune/gptqReference.test.ts).

GPTQ: Frantar, Ashkboos, Hoefler & Alistarh, "GPTQ: Accurate Post-Training Quantization for
Generative Pre-trained Transformers", ICLR 2023 (arXiv 2210.17323), Algorithm 1 (quantize the
columns in order, each column's rounding error spread over the columns not yet quantized through the
upper Cholesky factor of the inverse Hessian, lazily in blocks of 128 columns). Written from the
paper and from the authors' code, IST-DASLab/gptq:
- gptq.py `GPTQ.add_batch`: H = (2 / nsamples) sum over windows of X^T X (the running average is the
  same quantity; computed here as the plain float64 sum).
- gptq.py `GPTQ.fasterquant(blocksize=128, percdamp=.01, groupsize, actorder, static_groups)`:
    per-channel (groupsize -1): the quantizer's parameters come from the whole W once, BEFORE the
      dead columns are zeroed;
    dead = diag(H) == 0: H[dead, dead] = 1, W[:, dead] = 0;
    static_groups: one quantizer per group of groupsize columns in the original column order, from W
      after the dead columns are zeroed and before any update;
    actorder (desc_act): columns permuted by diag(H) descending (a stable sort here; ties among equal
      diagonal entries are ordered by column index, torch's argsort does not promise an order);
    H += percdamp * mean(diag(H)) * I; Hinv = upper Cholesky factor of H^-1;
    for each block [i1, i2) of blocksize columns, for each column i in it:
      groups (not static): when (i1 + i) % groupsize == 0 the quantizer's parameters are found on
        W[:, i1 + i : i1 + i + groupsize] - the matrix W, which holds the updates of earlier blocks but
        NOT those of earlier columns of this block (they live in the block copy W1); a last group is
        shorter when groupsize does not divide the columns (the slice ends at the last column);
      static groups: the quantizer of group (perm[i1 + i] if actorder else i1 + i) // groupsize;
      q = quantize(W1[:, i]); err = (W1[:, i] - q) / Hinv[i, i]; W1[:, i:] -= err Hinv[i, i:];
    then W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]; finally Q is un-permuted.
- quant.py `Quantizer.find_params(x, weight=True)` (perchannel, asymmetric, no MSE grid): per row
  xmin = min(min(x), 0), xmax = max(max(x), 0); rows with xmin == xmax == 0 get xmin = -1, xmax = 1;
  scale = (xmax - xmin) / maxq, zero = round(-xmin / scale), maxq = 2^bits - 1;
  `quantize`: code = clamp(round(x / scale) + zero, 0, maxq), dequantized = scale * (code - zero).
  Rounding is half to even (torch.round, numpy.round, WGSL round).
- llama.py `llama_sequential` (without --true-sequential): per decoder layer the inputs of all seven
  linears come from one forward of the calibration windows through the layer (earlier layers already
  quantized); then the seven are quantized and the layer's outputs are recomputed with the dequantized
  weights for the next layer.
- SparseGPT's joint mode (job "prune": {"sparsity": r} or {"n": N, "m": M}): Frantar & Alistarh,
  "SparseGPT: Massive Language Models Can Be Accurately Pruned in One-Shot", ICML 2023, section
  "Joint Sparsification & Quantization", and IST-DASLab/sparsegpt sparsegpt.py `fasterprune` with a
  quantizer (quant.py, perchannel, asymmetric): the parameters per row from the whole W before the dead
  columns are zeroed; per block, the mask as SparseGPT chooses it (unstructured: the block's scores
  W1^2 / diag(Hinv1)^2 up to the int(numel * r)-th smallest, ties included; N:M: at every M-th column
  the M - N smallest of the group's current scores, ties by lower column); q = quantize(0 if pruned else
  w), so a pruned weight is exactly 0; err = (w - q) / Hinv[i, i] and the same updates as GPTQ.
  Writes OUT.mask as well (uint8, 1 = pruned). `force` works as for GPTQ, on kept weights only.
Precision: everything is float64. Where float32 (the authors' torch code, PolyPrune's WGSL) lands a
value of x / scale on the other side of a rounding tie its code differs; the .margin output (per
weight: |frac(x / scale) - 0.5|, in code units, as this reference computed it) lets a comparison tell
such a flip from a real difference.

The Llama decoder is tools/ria-reference/ria_ref.py's (imported).

Usage:
  gptq_ref.py MODEL_DIR JOB.json OUT_PREFIX
JOB.json: {"calib": [[ids...], ...], "bits": 4, "groupsize": 128 (-1 = per channel),
           "actorder": false, "static_groups": false, "blocksize": 128, "percdamp": 0.01,
           "eval": [[ids...], ...] (optional: windows whose perplexity is computed on the result),
           "force": [[matrix, row, column, code], ...] (optional: codes to take where float32 rounded a
           tie the other way; matrix = layer * 7 + index in the order below; refused unless at a tie)}
Writes, per layer in the order q, k, v, o, gate, up, down:
  OUT.codes  uint8  [out, in] row-major, the integer codes in the ORIGINAL column order
  OUT.gidx   int32  [in] per matrix, the group of every original column (HF GPTQ's g_idx)
  OUT.scales float64 [out, groups] per matrix (groups indexed as gidx)
  OUT.zeros  float64 [out, groups]
  OUT.deq    float64 [out, in] the dequantized weights
  OUT.margin float64 [out, in] the tie margin of every code
  OUT.order  int32  [in] per matrix, the order in which the columns were quantized (act-order's perm)
  OUT.json   {"ppl": perplexity of the eval windows (or null), "groups": [groups per matrix]}
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'ria-reference'))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'reference-common'))
from ria_ref import Llama  # noqa: E402
from refcommon import GROUP, LINEARS, gram, sum_inputs  # noqa: E402


def find_params(x, maxq):
    """Asymmetric min-max parameters of every row of x (rows, cols): scale, zero (rows,)."""
    xmin = np.minimum(x.min(1), 0.0)
    xmax = np.maximum(x.max(1), 0.0)
    both = (xmin == 0) & (xmax == 0)
    xmin = np.where(both, -1.0, xmin)
    xmax = np.where(both, 1.0, xmax)
    scale = (xmax - xmin) / maxq
    zero = np.round(-xmin / scale)
    return scale, zero


def quantize(w, scale, zero, maxq):
    """Codes, dequantized values and tie margins of one column w (rows,) with per-row parameters."""
    t = w / scale
    code = np.clip(np.round(t) + zero, 0, maxq)
    margin = np.abs(np.abs(t - np.floor(t)) - 0.5)
    return code, scale * (code - zero), margin


def forced_by_column(force):
    """{original column: [(row, code), ...]} of the (row, column, code) triples of a job's `force`."""
    forced = {}
    for r, c, code in force:
        forced.setdefault(int(c), []).append((int(r), code))
    return forced


def fasterquant(W, H, bits, groupsize, actorder, static_groups, blocksize, percdamp, force=()):
    """`force`: (row, original column, code) triples taken instead of this reference's code; each must
    be at a rounding tie (margin < 1e-3 code units), where float32 may round to the other side."""
    forced = forced_by_column(force)
    W = W.copy()
    H = H.copy()
    rows, cols = W.shape
    maxq = 2 ** bits - 1
    gs = cols if groupsize == -1 else groupsize
    ngroups = -(-cols // gs)
    scales = np.zeros((rows, ngroups))
    zeros = np.zeros((rows, ngroups))
    if groupsize == -1:
        s, z = find_params(W, maxq)  # before the dead columns are zeroed, as the reference
        scales[:, 0], zeros[:, 0] = s, z
    dead = np.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    if static_groups and groupsize != -1:
        for g in range(ngroups):
            scales[:, g], zeros[:, g] = find_params(W[:, g * gs:(g + 1) * gs], maxq)
    perm = np.arange(cols)
    if actorder:
        perm = np.argsort(-np.diag(H), kind='stable')
        W = W[:, perm]
        H = H[perm][:, perm]
    H[np.arange(cols), np.arange(cols)] += percdamp * np.mean(np.diag(H))
    Hinv = np.linalg.cholesky(np.linalg.inv(H)).T  # upper U with H^-1 = U^T U
    Q = np.zeros_like(W)
    codes = np.zeros((rows, cols))
    margins = np.zeros((rows, cols))
    gidx = np.zeros(cols, dtype=np.int64)  # group of each permuted column
    cur = None  # group of the current parameters (dynamic groups)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        W1 = W[:, i1:i2].copy()
        Err1 = np.zeros_like(W1)
        for i in range(i2 - i1):
            c = i1 + i
            if groupsize == -1:
                g = 0
            elif static_groups:
                g = perm[c] // gs
            else:
                if c % gs == 0:
                    cur = c // gs
                    scales[:, cur], zeros[:, cur] = find_params(W[:, c:c + gs], maxq)
                g = cur
            gidx[c] = g
            w = W1[:, i]
            code, q, margin = quantize(w, scales[:, g], zeros[:, g], maxq)
            for r, fc in forced.get(int(perm[c]), ()):
                if margin[r] >= 1e-3 or abs(fc - code[r]) != 1:
                    raise SystemExit(f'forced code {fc} at row {r} column {perm[c]} is not at a tie (margin {margin[r]}, code {code[r]})')
                code[r] = fc
                q[r] = scales[r, g] * (fc - zeros[r, g])
            codes[:, c], Q[:, c], margins[:, c] = code, q, margin
            err = (w - q) / Hinv[c, c]
            W1[:, i:] -= np.outer(err, Hinv[c, c:i2])
            Err1[:, i] = err
        W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
    inv = np.argsort(perm)
    return Q[:, inv], codes[:, inv], margins[:, inv], gidx[inv], scales, zeros, perm


def fasterprune_quant(W, H, bits, prune, blocksize, percdamp, force=()):
    """SparseGPT pruning with per-channel quantization of the kept weights (the joint mode). `force`: as
    fasterquant's, (row, column, code) triples at rounding ties of kept weights."""
    forced = forced_by_column(force)
    W = W.copy()
    H = H.copy()
    rows, cols = W.shape
    maxq = 2 ** bits - 1
    scale, zero = find_params(W, maxq)  # before the dead columns are zeroed, as the reference
    dead = np.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    H[np.arange(cols), np.arange(cols)] += percdamp * np.mean(np.diag(H))
    Hinv = np.linalg.cholesky(np.linalg.inv(H)).T
    Q = np.zeros_like(W)
    codes = np.zeros((rows, cols))
    margins = np.zeros((rows, cols))
    mask = np.zeros((rows, cols), dtype=bool)
    n, m = prune.get('n', 0), prune.get('m', 0)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        W1 = W[:, i1:i2].copy()
        Err1 = np.zeros_like(W1)
        d1 = np.diag(Hinv)[i1:i2]
        if not m:
            tmp = W1 ** 2 / d1[None, :] ** 2
            thresh = np.sort(tmp.ravel())[int(tmp.size * prune['sparsity'])]
            mask1 = tmp <= thresh
        else:
            mask1 = np.zeros_like(W1, dtype=bool)
        for i in range(i2 - i1):
            c = i1 + i
            if m and i % m == 0:
                tmp = W1[:, i:i + m] ** 2 / d1[None, i:i + m] ** 2
                k = min(m - n, tmp.shape[1])
                idx = np.argsort(tmp, axis=1, kind='stable')[:, :k]
                mask1[np.arange(rows)[:, None], i + idx] = True
            w = W1[:, i]
            code, q, margin = quantize(np.where(mask1[:, i], 0.0, w), scale, zero, maxq)
            for r, fc in forced.get(c, ()):
                if mask1[r, i] or margin[r] >= 1e-3 or abs(fc - code[r]) != 1:
                    raise SystemExit(f'forced code {fc} at row {r} column {c} is not at a tie (margin {margin[r]}, code {code[r]}, pruned {bool(mask1[r, i])})')
                code[r] = fc
                q[r] = scale[r] * (fc - zero[r])
            codes[:, c], Q[:, c], margins[:, c] = code, q, margin
            err = (w - q) / Hinv[c, c]
            W1[:, i:] -= np.outer(err, Hinv[c, c:i2])
            Err1[:, i] = err
        mask[:, i1:i2] = mask1
        W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
    return Q, codes, margins, scale[:, None], zero[:, None], mask


def perplexity(model, weights, windows):
    """exp of the mean next-token negative log-likelihood over all windows (tied or separate lm_head)."""
    head = weights.get('lm_head.weight', weights['model.embed_tokens.weight'])
    nll, n = 0.0, 0
    for ids in windows:
        x = weights['model.embed_tokens.weight'][np.asarray(ids)]
        for i in range(model.L):
            x = model.layer(i, x, weights)
        h = model.rms(x, weights['model.norm.weight'])
        logits = h @ head.T
        logits = logits - logits.max(-1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        nll -= logp[np.arange(len(ids) - 1), np.asarray(ids[1:])].sum()
        n += len(ids) - 1
    return float(np.exp(nll / n))


def main():
    if len(sys.argv) != 4:
        raise SystemExit('usage: gptq_ref.py MODEL_DIR JOB.json OUT_PREFIX')
    model_dir, job_path, out = sys.argv[1:]
    job = json.loads(Path(job_path).read_text())
    bits = job.get('bits', 4)
    if bits not in (2, 3, 4, 8):
        raise SystemExit(f'bits must be 2, 3, 4 or 8, got {bits}')
    model = Llama(model_dir)
    weights = dict(model.w)
    xs = [weights['model.embed_tokens.weight'][np.asarray(ids)] for ids in job['calib']]
    n = len(xs)
    prune = job.get('prune')
    parts = {k: [] for k in ('codes', 'gidx', 'scales', 'zeros', 'deq', 'margin', 'order')}
    if prune:
        parts['mask'] = []
    force = {}
    for m, r, c, code in job.get('force', []):
        force.setdefault(m, []).append((r, c, code))
    groups = []
    for i in range(model.L):
        hs = sum_inputs(lambda x, capture: model.layer(i, x, weights, capture), xs, gram)
        for name in LINEARS:
            key = f'model.layers.{i}.{name}.weight'
            H = 2.0 * hs[GROUP[name]] / n
            if prune:
                Q, codes, margins, scales, zeros, mask = fasterprune_quant(weights[key], H, bits, prune, job.get('blocksize', 128), job.get('percdamp', 0.01),
                                                                          force.get(i * len(LINEARS) + LINEARS.index(name), ()))
                weights[key] = Q
                cols = Q.shape[1]
                for k, v in (('codes', codes.astype(np.uint8)), ('gidx', np.zeros(cols, dtype='<i4')), ('scales', scales), ('zeros', zeros), ('deq', Q), ('margin', margins), ('order', np.arange(cols, dtype='<i4')), ('mask', mask.astype(np.uint8))):
                    parts[k].append(v.ravel())
                groups.append(1)
                continue
            Q, codes, margins, gidx, scales, zeros, perm = fasterquant(
                weights[key], H, bits, job.get('groupsize', 128), job.get('actorder', False), job.get('static_groups', False),
                job.get('blocksize', 128), job.get('percdamp', 0.01), force.get(i * len(LINEARS) + LINEARS.index(name), ()))
            weights[key] = Q
            for k, v in (('codes', codes.astype(np.uint8)), ('gidx', gidx.astype('<i4')), ('scales', scales), ('zeros', zeros), ('deq', Q), ('margin', margins), ('order', perm.astype('<i4'))):
                parts[k].append(v.ravel())
            groups.append(scales.shape[1])
        xs = [model.layer(i, x, weights) for x in xs]
    for k, v in parts.items():
        arr = np.concatenate(v)
        (arr if arr.dtype != np.float64 else arr.astype('<f8')).tofile(f'{out}.{k}')
    ppl = perplexity(model, weights, job['eval']) if job.get('eval') else None
    Path(f'{out}.json').write_text(json.dumps({'ppl': ppl, 'groups': groups}))


if __name__ == '__main__':
    main()
