"""What the float64 numpy references in tools/*-reference (and tools/make-eval-tasks/np_score.py)
share: the decoder's linear names, which linears read the same input, a safetensors reader of their
own (independent of PolyPrune's TypeScript), and Wanda's per-row / N:M selection.

A script imports it with
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'reference-common'))
    from refcommon import ...  # noqa: E402
"""
import json
import struct

import numpy as np

# The linears of a Llama-family decoder layer, in the order the references write their masks.
LINEARS = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj',
           'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj']

# The linear whose input each linear reads (q, k, v read one input; gate and up read one input).
GROUP = {'self_attn.q_proj': 'self_attn.q_proj', 'self_attn.k_proj': 'self_attn.q_proj', 'self_attn.v_proj': 'self_attn.q_proj',
         'self_attn.o_proj': 'self_attn.o_proj', 'mlp.gate_proj': 'mlp.gate_proj', 'mlp.up_proj': 'mlp.gate_proj',
         'mlp.down_proj': 'mlp.down_proj'}

_NUMPY = {'F32': '<f4', 'F16': '<f2', 'I32': '<i4', 'U8': 'u1'}


def read_safetensors(path, dtypes=('F32', 'F16', 'BF16', 'I32', 'U8'), float64=False):
    """{name: array} of a .safetensors file. Stored dtypes F32, F16, I32 and U8 keep their numpy type,
    BF16 becomes float32 (exactly); a tensor of a dtype not in `dtypes` ends the script with a message.
    float64: every tensor as float64."""
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        dt = info['dtype']
        if dt not in dtypes or (dt != 'BF16' and dt not in _NUMPY):
            raise SystemExit(f'{path}: tensor {name} is {dt}; this reference reads {", ".join(dtypes)}')
        a, b = info['data_offsets']
        if dt == 'BF16':
            v = (np.frombuffer(data[a:b], dtype='<u2').astype(np.uint32) << 16).view(np.float32)
        else:
            v = np.frombuffer(data[a:b], dtype=_NUMPY[dt])
        v = v.reshape(info['shape'])
        out[name] = v.astype(np.float64) if float64 else v
    return out


def pruned_mask(metric, sparsity, nm=None):
    """Wanda's selection (locuslab/wanda lib/prune.py), True = pruned. Unstructured: per row the
    int(K * sparsity) smallest scores of a stable sort (among equal scores the lower column goes
    first). nm = (n, m), n KEPT of every m: in each group of m consecutive columns the m - n smallest."""
    mask = np.zeros(metric.shape, dtype=bool)
    if nm:
        n, m = nm
        for c0 in range(0, metric.shape[1], m):
            idx = np.argsort(metric[:, c0:c0 + m], axis=1, kind='stable')[:, :m - n]
            np.put_along_axis(mask[:, c0:c0 + m], idx, True, axis=1)
    else:
        idx = np.argsort(metric, axis=1, kind='stable')[:, :int(metric.shape[1] * sparsity)]
        np.put_along_axis(mask, idx, True, axis=1)
    return mask


def sq_norms(inp):
    """Wanda's statistic of one window's input (T, K): the squared L2 norm of each input feature."""
    return (inp ** 2).sum(0)


def gram(inp):
    """SparseGPT's / GPTQ's statistic of one window's input (T, K): X^T X (K, K)."""
    return inp.T @ inp


def sum_inputs(layer, xs, stat):
    """{linear: sum over the windows xs of stat(its input)}. layer(x, capture) runs one window through a
    decoder layer, calling capture(name, input (T, K)) with the input of each linear it reads."""
    sums = {}

    def capture(name, inp):
        sums[name] = sums.get(name, 0.0) + stat(inp)

    for x in xs:
        layer(x, capture)
    return sums
