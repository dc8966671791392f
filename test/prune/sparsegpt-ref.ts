/**
 * Float64 TypeScript reference of SparseGPT (`fasterprune`, wanda lib/sparsegpt.py), written from the
 * semantics in shared/fixtures/stories260K/README.md. U is computed by the reference's own route
 * (cholesky -> cholesky_inverse -> cholesky upper), so it also checks the GPU's reversal route.
 */

/** Lower Cholesky factor of a symmetric positive definite (d, d) matrix; throws if not SPD. */
export function cholLower64(a: ArrayLike<number>, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j];
    for (let k = 0; k < j; k++) s -= l[j * d + k] ** 2;
    if (!(s > 0)) throw new Error(`cholLower64: not positive definite at pivot ${j}`);
    const ljj = Math.sqrt(s);
    l[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j];
      for (let k = 0; k < j; k++) t -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = t / ljj;
    }
  }
  return l;
}

/** Inverse of a lower-triangular (d, d) matrix. */
export function triInvLower64(l: ArrayLike<number>, d: number): Float64Array {
  const x = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    for (let i = j; i < d; i++) {
      let s = i === j ? 1 : 0;
      for (let k = j; k < i; k++) s -= l[i * d + k] * x[k * d + j];
      x[i * d + j] = s / l[i * d + i];
    }
  }
  return x;
}

/** Dampened H (dead diagonal -> 1, + percdamp * mean(diag) * I) and whether each column is dead. */
export function dampen64(h: ArrayLike<number>, d: number, percdamp: number): { hd: Float64Array; dead: boolean[] } {
  const hd = Float64Array.from(h as ArrayLike<number>);
  const dead: boolean[] = [];
  let sum = 0;
  for (let j = 0; j < d; j++) {
    dead.push(hd[j * d + j] === 0);
    if (dead[j]) hd[j * d + j] = 1;
    sum += hd[j * d + j];
  }
  const damp = (percdamp * sum) / d;
  for (let j = 0; j < d; j++) hd[j * d + j] += damp;
  return { hd, dead };
}

/** U: upper Cholesky factor of hd^-1 (torch: cholesky(cholesky_inverse(cholesky(hd)), upper=True)). */
export function hinvUpper64(hd: ArrayLike<number>, d: number): Float64Array {
  const linv = triInvLower64(cholLower64(hd, d), d);
  // H^-1 = L^-T L^-1
  const hinv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < d; k++) s += linv[k * d + i] * linv[k * d + j];
      hinv[i * d + j] = s;
      hinv[j * d + i] = s;
    }
  }
  const l2 = cholLower64(hinv, d);
  const u = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) u[i * d + j] = l2[j * d + i];
  return u;
}

export interface RefOptions {
  sparsity?: number;
  nm?: { n: number; m: number };
  blocksize?: number;
  percdamp?: number;
}

/** SparseGPT on W (rows, d) in float64; returns the pruned weights and the mask (1 = kept). */
export function sparsegptRef64(w0: ArrayLike<number>, rows: number, d: number, h: ArrayLike<number>, opts: RefOptions = {}): { w: Float64Array; mask: Uint8Array } {
  const sparsity = opts.sparsity ?? 0.5;
  const bs = opts.blocksize ?? 128;
  const { hd, dead } = dampen64(h, d, opts.percdamp ?? 0.01);
  const u = hinvUpper64(hd, d);
  const w = Float64Array.from(w0 as ArrayLike<number>);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) if (dead[j]) w[r * d + j] = 0;
  const mask = new Uint8Array(rows * d).fill(1);
  for (let i1 = 0; i1 < d; i1 += bs) {
    const i2 = Math.min(i1 + bs, d);
    const count = i2 - i1;
    const pruned = new Uint8Array(rows * count);
    const score = (r: number, c: number) => w[r * d + i1 + c] ** 2 / u[(i1 + c) * d + i1 + c] ** 2;
    if (!opts.nm) {
      const all: number[] = [];
      for (let r = 0; r < rows; r++) for (let c = 0; c < count; c++) all.push(score(r, c));
      const sorted = [...all].sort((a, b) => a - b);
      const thresh = sorted[Math.floor(all.length * sparsity)];
      all.forEach((v, e) => (pruned[e] = v <= thresh ? 1 : 0));
    }
    const err = new Float64Array(rows * count);
    for (let i = 0; i < count; i++) {
      if (opts.nm && i % opts.nm.m === 0) {
        const glen = Math.min(opts.nm.m, count - i);
        const k = Math.min(opts.nm.m - opts.nm.n, glen);
        for (let r = 0; r < rows; r++) {
          const idx = Array.from({ length: glen }, (_, j) => j).sort((a, b) => score(r, i + a) - score(r, i + b) || a - b);
          for (let s = 0; s < k; s++) pruned[r * count + i + idx[s]] = 1;
        }
      }
      const dii = u[(i1 + i) * d + i1 + i];
      for (let r = 0; r < rows; r++) {
        const wi = w[r * d + i1 + i];
        const q = pruned[r * count + i] ? 0 : wi;
        const e = (wi - q) / dii;
        err[r * count + i] = e;
        for (let t = i + 1; t < count; t++) w[r * d + i1 + t] -= e * u[(i1 + i) * d + i1 + t];
        w[r * d + i1 + i] = q;
        if (pruned[r * count + i]) mask[r * d + i1 + i] = 0;
      }
    }
    for (let r = 0; r < rows; r++) {
      for (let j = i2; j < d; j++) {
        let s = 0;
        for (let k = 0; k < count; k++) s += err[r * count + k] * u[(i1 + k) * d + j];
        w[r * d + j] -= s;
      }
    }
  }
  return { w, mask };
}

/** Random symmetric positive definite (d, d) matrix like a Hessian: (2/n) X^T X of n random rows + a ridge. */
export function randomHessian(d: number, n: number, rand: (k: number) => Float32Array, ridge = 0): Float64Array {
  const x = rand(n * d);
  const h = new Float64Array(d * d);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < d; i++) {
      const xi = x[t * d + i];
      if (xi === 0) continue;
      for (let j = 0; j < d; j++) h[i * d + j] += xi * x[t * d + j];
    }
  }
  for (let e = 0; e < d * d; e++) h[e] *= 2 / n;
  for (let i = 0; i < d; i++) h[i * d + i] += ridge;
  return h;
}
