#!/usr/bin/env python3
"""Check a PolyPrune hf-gptq export against the engine's dequantized weights, with numpy only.

    python3 check_gptq.py GPTQ_DIR DEQUANT_DIR

GPTQ_DIR is `polyprune quantize ... --format hf-gptq` (or Engine.exportTo format 'hf-gptq'); DEQUANT_DIR
is the same quantized model exported as `hf` (the dequantized float weights the engine computes with).
torch, transformers and GPTQModel cannot be installed on PolyPrune's build machine, so instead of loading
the folder in transformers this script reads the safetensors itself and unpacks the tensors the way
GPTQModel (the GPTQ backend transformers uses) does on load:

  - gptqmodel/utils/model.py `convert_gptq_v1_to_v2_format_module`: a `checkpoint_format: gptq` (v1)
    folder stores every zero point minus one; on load the packed int32 word gets 0x11111111 (4 bits),
    0x55555555 (2 bits) or 0x01010101 (8 bits) added, wrapping like torch int32; for 3 bits (fields
    straddle words) every zero field is unpacked, gets one added modulo 8 and is packed again
    (gptqmodel/utils/model_dequant.py `_correct_gptq_v1_qzeros`), the same as adding one to each
    unpacked zero modulo 8, which is what this script does;
  - gptqmodel/nn_modules/qlinear/__init__.py `PackableQuantLinear.dequantize_weight`:
    2/4/8 bits: zeros = (qzeros >> [0, bits, 2 bits, ...]) & maxq, reshaped to scales' shape (G, N);
      weight = (qweight[:, None, :] >> [0, bits, ...][:, None]) & maxq, reshaped to (K, N);
    3 bits (32 values in 3 words, IST-DASLab/gptq quant.py `Quant3Linear.pack`): each triple of words
      shifted by the table WF3 below, values 10 and 21 patched from two words, 11 + 11 + 10 fields kept;
    W^T = scales[g_idx] * (weight - zeros[g_idx])   (fp16 scales; the product in fp16).

Checked, per quantized linear: the config's quantization_config; the tensor shapes and dtypes
(qweight I32 (K bits/32, N), qzeros I32 (G, N bits/32), scales F16 (G, N), g_idx I32 (K), G = ceil(K/group));
that the integer (weight - zero) of every element is exactly round(W_engine / scale) (the fp16 scale
differs from the engine's f32 one by at most 2^-11 relative, far below half a code); and the largest
difference between the fp16 dequantization and the engine's weights relative to the matrix's largest
weight. Every other tensor must equal the dequantized folder's byte for byte. Exit status 1 on any
mismatch, with one line saying what.
"""
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "BF16": np.uint16, "I64": np.int64, "U8": np.uint8}
V1_OFFSET = {2: 0x55555555, 4: 0x11111111, 8: 0x01010101}
# dequantize_weight's 3-bit shifts: row r of a triple of words, 12 fields (unused ones 0)
WF3 = np.array([[0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0], [0, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31], [0, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0]], dtype=np.uint32)


def read_safetensors(folder):
    """All tensors of a folder's model.safetensors or its shards: name -> (dtype, shape, raw bytes)."""
    index = os.path.join(folder, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    out = {}
    for f in files:
        data = open(os.path.join(folder, f), "rb").read()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + n])
        base = 8 + n
        for name, t in header.items():
            if name == "__metadata__":
                continue
            a, b = t["data_offsets"]
            out[name] = (t["dtype"], tuple(t["shape"]), data[base + a : base + b])
    return out


def array(t):
    dtype, shape, raw = t
    return np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(shape)


def fail(msg):
    print(f"check_gptq: FAIL: {msg}")
    sys.exit(1)


def unpack3(words):
    """3-bit fields of words (..., 3 n) along the last axis, as dequantize_weight: (..., 32 n)."""
    w = words.reshape(words.shape[:-1] + (words.shape[-1] // 3, 3, 1)).astype(np.uint32)
    f = w >> WF3  # (..., n, 3, 12)
    f[..., 0, 10] = (f[..., 0, 10] & 0x3) | ((w[..., 1, 0] << 2) & 0x4)
    f[..., 1, 11] = (f[..., 1, 11] & 0x1) | ((w[..., 2, 0] << 1) & 0x6)
    f = f & 0x7
    out = np.concatenate([f[..., 0, :11], f[..., 1, 1:12], f[..., 2, 1:11]], axis=-1)  # (..., n, 32)
    return out.reshape(words.shape[:-1] + (out.shape[-2] * 32,))


def unpack(qweight, qzeros, bits):
    """GPTQModel's v1 -> v2 zero offset, then dequantize_weight's unpacking (see the module comment)."""
    if bits == 3:
        zeros = (unpack3(qzeros.view(np.uint32)) + 1) & 0x7  # (G, N); v1: each field was zero - 1
        weight = unpack3(qweight.view(np.uint32).T).T  # (K, N): qweight's triples run down the columns
        return weight.astype(np.int32), zeros.astype(np.int32)
    maxq = 2**bits - 1
    pf = 32 // bits
    shifts = np.arange(0, 32, bits, dtype=np.uint32)
    qz = (qzeros.view(np.uint32).astype(np.uint64) + V1_OFFSET[bits]) % 2**32  # int32 wrap-around
    qz = qz.astype(np.uint32)
    zeros = ((qz[:, :, None] >> shifts[None, None, :]) & maxq).reshape(qz.shape[0], qz.shape[1] * pf)
    qw = qweight.view(np.uint32)
    weight = ((qw[:, None, :] >> shifts[None, :, None]) & maxq).reshape(qw.shape[0] * pf, qw.shape[1])
    return weight.astype(np.int32), zeros.astype(np.int32)  # (K, N), (G, N)


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip())
        sys.exit(2)
    gdir, ddir = sys.argv[1], sys.argv[2]
    qc = json.load(open(os.path.join(gdir, "config.json"))).get("quantization_config")
    if not qc:
        fail("config.json has no quantization_config")
    for k, v in {"quant_method": "gptq", "checkpoint_format": "gptq", "sym": False}.items():
        if qc.get(k) != v:
            fail(f"quantization_config.{k} is {qc.get(k)!r}, expected {v!r}")
    bits, group = qc["bits"], qc["group_size"]
    if bits not in (2, 3, 4, 8):
        fail(f"bits {bits}: this check unpacks 2, 3, 4 and 8 bits")
    g = read_safetensors(gdir)
    d = read_safetensors(ddir)
    worst = 0.0
    n_quant = 0
    zero_zeros = 0
    for name in sorted(g):
        if not name.endswith(".qweight"):
            continue
        p = name[: -len(".qweight")]
        for suffix, dt in (("qweight", "I32"), ("qzeros", "I32"), ("scales", "F16"), ("g_idx", "I32")):
            if g[f"{p}.{suffix}"][0] != dt:
                fail(f"{p}.{suffix} is {g[p + '.' + suffix][0]}, expected {dt}")
        w_engine = array(d[f"{p}.weight"]).astype(np.float64)  # (N, K)
        N, K = w_engine.shape
        G = 1 if group == -1 else -(-K // group)
        want = {"qweight": (K * bits // 32, N), "qzeros": (G, N * bits // 32), "scales": (G, N), "g_idx": (K,)}
        for suffix, shape in want.items():
            if g[f"{p}.{suffix}"][1] != shape:
                fail(f"{p}.{suffix} has shape {g[p + '.' + suffix][1]}, expected {shape}")
        if f"{p}.weight" in g:
            fail(f"{p}.weight is still in the GPTQ folder")
        weight, zeros = unpack(array(g[f"{p}.qweight"]), array(g[f"{p}.qzeros"]), bits)
        scales = array(g[f"{p}.scales"])
        g_idx = array(g[f"{p}.g_idx"]).astype(np.int64)
        if g_idx.min() < 0 or g_idx.max() >= G:
            fail(f"{p}.g_idx outside [0, {G})")
        zero_zeros += int(np.sum(zeros == 0))
        diff = weight - zeros[g_idx]  # (K, N) integer code - zero
        s = scales[g_idx].astype(np.float64)  # (K, N)
        ratio = w_engine.T / s
        if not np.array_equal(np.rint(ratio), diff):
            bad = np.argwhere(np.rint(ratio) != diff)[0]
            fail(f"{p}: element (out {bad[1]}, in {bad[0]}): code - zero {diff[tuple(bad)]}, engine weight / scale {ratio[tuple(bad)]:.4f}")
        w_hf = (scales[g_idx] * diff.astype(np.float16)).astype(np.float64)  # GPTQModel: fp16 product
        err = np.abs(w_hf - w_engine.T).max() / max(np.abs(w_engine).max(), 1e-30)
        worst = max(worst, err)
        n_quant += 1
    if n_quant == 0:
        fail("no quantized linear (*.qweight) in the GPTQ folder")
    others = [n for n in g if not n.rsplit(".", 1)[-1] in ("qweight", "qzeros", "scales", "g_idx")]
    for n in others:
        if n not in d or d[n][2] != g[n][2] or d[n][1] != g[n][1]:
            fail(f"{n} differs from the dequantized folder's")
    print(json.dumps({"ok": True, "bits": bits, "group_size": group, "desc_act": qc.get("desc_act"), "quantized_linears": n_quant, "other_tensors": len(others), "max_rel_err_fp16_dequant": worst, "zero_points_equal_to_0": zero_zeros}))


if __name__ == "__main__":
    main()
