import { Gpu } from '../../src/gpu/device';
import type { ChunkedMatrix } from '../../src/gpu/ops';
import { nodeGpu } from '../../src/gpu/node';

let shared: Promise<Gpu> | undefined;

/** One Dawn device for a test file. Fails (never skips) when no adapter exists: CI must have lavapipe. */
export function testGpu(): Promise<Gpu> {
  shared ??= (async () => Gpu.create(await nodeGpu(), { politeWait: true }))();
  return shared;
}

/** Deterministic pseudo-random floats in [-scale, scale). */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Assert |a - b| <= atol + rtol*|b| everywhere; report the worst mismatches. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what = 'values'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  const bad: Array<[number, number, number]> = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) bad.push([i, a, e]);
  }
  if (bad.length) {
    bad.sort((x, y) => Math.abs(y[1] - y[2]) - Math.abs(x[1] - x[2]));
    const worst = bad.slice(0, 5).map(([i, a, e]) => `[${i}] got ${a} want ${e}`).join('; ');
    throw new Error(`${what}: ${bad.length}/${expected.length} outside atol ${atol} rtol ${rtol}: ${worst}`);
  }
}

/** max |a-b| / max |b| (logits compared as a whole sequence); Infinity where a holds a NaN or infinity. */
export function relMaxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    if (!Number.isFinite(a[i])) return Infinity;
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/**
 * W (rows x cols, row-major) uploaded as row chunks, as the model holds big matrices: `sizes` lists
 * each chunk's rows (they must add up to `rows`), or one number gives chunks of that many rows.
 */
export function uploadRowChunks(gpu: Gpu, w: Float32Array, rows: number, cols: number, sizes: number[] | number): ChunkedMatrix {
  const per = typeof sizes === 'number' ? Array.from({ length: Math.ceil(rows / sizes) }, (_, i) => Math.min(sizes, rows - i * sizes)) : sizes;
  if (per.reduce((a, b) => a + b, 0) !== rows) throw new Error(`chunk sizes ${per.join('+')} do not add up to ${rows} rows`);
  const chunks = [];
  let r0 = 0;
  for (const n of per) {
    chunks.push({ tensor: gpu.upload(w.slice(r0 * cols, (r0 + n) * cols), [n, cols], `w${r0}`), rowStart: r0, rows: n });
    r0 += n;
  }
  return { rows, cols, chunks };
}

/** Read a chunked matrix back (rows x cols); `destroy` frees its chunks afterwards. */
export async function readRowChunks(gpu: Gpu, m: ChunkedMatrix, opts: { destroy?: boolean } = {}): Promise<Float32Array> {
  const out = new Float32Array(m.rows * m.cols);
  for (const ch of m.chunks) out.set(await gpu.readF32(ch.tensor, 0, ch.rows * m.cols), ch.rowStart * m.cols);
  if (opts.destroy) for (const ch of m.chunks) ch.tensor.destroy();
  return out;
}
