/**
 * `BENCH_ONLY=sparsegpt npm run bench`: where SparseGPT's time goes on this adapter, kernel by kernel,
 * for one weight of `rows` x `d` (BENCH_SGPT=ROWSxD, default 2048x2048; the Hessian from
 * BENCH_SGPT_TOKENS=512 tokens of random activations).
 *  - the Hessian accumulation (prune/hessian) and the inverse factor (damp, Cholesky, triangular
 *    inverse), each timed alone;
 *  - the whole prune (the factor included), then again with one group of kernels left out: the time
 *    it loses is that group's time. A left-out kernel changes the numbers the others see, not their
 *    work (no kernel's work depends on the values), so the differences are the groups' own seconds.
 * The groups: the fused column loop (sparsegpt_block), the lazy batch update W[:, i2:] -= Err1 U
 * (prune/linalg_gemm with K = the block size), the block scores and their threshold (sparsegpt_score,
 * _hist, _select), and inside the factor the Cholesky's and inverse's trailing updates (prune/linalg_gemm
 * in chunks of 32) and the Cholesky's diagonal blocks (cholesky_diag, one workgroup each); the factor
 * with its trailing updates deferred per super-block of FACTOR_SB columns against per 32 columns (the
 * earlier form; bitwise the same U), side by side; and one deferred update's shape (lower from the
 * matrix itself, full, separate operands). Last, for comparison, Wanda's per-row selection of the same
 * weight (prune/row_select) and its non-finite check (util/nonfinite) in both forms.
 */
import type { DispatchArgs, Gpu, Tensor } from '../src/gpu/device';
import * as ops from '../src/gpu/ops';
import * as prune from '../src/gpu/prune';
import { FACTOR_SB, controlBlock, gemmSub, inverseHessianFactor, sparsegptPrune } from '../src/prune/sparsegpt';

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

/** A dispatch left out of a timed run: kernel name and the uniform parameters it was given. */
type Skip = (name: string, args: DispatchArgs) => boolean;

/** gpu.dispatch with the dispatches `skip` names left out, for the duration of fn. */
async function without<T>(gpu: Gpu, skip: Skip | null, fn: () => Promise<T>): Promise<T> {
  if (!skip) return fn();
  const original = gpu.dispatch;
  gpu.dispatch = function (this: Gpu, name: string, readOnly: boolean[], args: DispatchArgs) {
    if (!skip(name, args)) original.call(this, name, readOnly, args);
  };
  try {
    return await fn();
  } finally {
    gpu.dispatch = original;
  }
}

/** The value of a dispatch's uniform field i. */
const param = (args: DispatchArgs, i: number): number => args.params?.[i]?.[1] ?? NaN;

export async function benchSparsegpt(gpu: Gpu): Promise<void> {
  const [rows, d] = (process.env.BENCH_SGPT ?? '2048x2048').split('x').map(Number);
  const tokens = Number(process.env.BENCH_SGPT_TOKENS ?? 512);
  const bs = 128;
  if (d * d * 4 > gpu.info.limits.maxStorageBufferBindingSize) throw new Error(`BENCH_SGPT: d = ${d} needs the row-panel path; this section measures d <= ${Math.floor(Math.sqrt(gpu.info.limits.maxStorageBufferBindingSize / 4))}`);
  const x = gpu.upload(rand(tokens * d, 1), [tokens, d], 'bench.x');
  const coef = gpu.upload(Float32Array.from([0, Math.sqrt(2)]), [2], 'bench.coef');
  const H = gpu.tensor([d, d], 'f32', 'bench.H');
  const w0 = gpu.upload(rand(rows * d, 2), [rows, d], 'bench.w0');
  const w = gpu.tensor([rows, d], 'f32', 'bench.w');
  const W = { rows, cols: d, chunks: [{ tensor: w, rowStart: 0, rows }] };
  const secs = async (fn: () => Promise<void>): Promise<number> => {
    await gpu.sync();
    const t0 = performance.now();
    await fn();
    await gpu.sync();
    return (performance.now() - t0) / 1000;
  };
  const hessian = async () => prune.hessianUpdate(gpu, x, coef, H, d, 1, tokens);
  const factorWith = (sb: number) => async () => {
    const ctl = controlBlock(gpu);
    const u: Tensor = await inverseHessianFactor(gpu, H, d, 0.01, ctl, 'bench', undefined, sb);
    await gpu.sync();
    u.destroy();
    ctl.destroy();
  };
  const factor = factorWith(FACTOR_SB);
  const prunes = async () => {
    gpu.copy(w0, 0, w, 0, rows * d);
    await sparsegptPrune(gpu, W, H, { sparsity: 0.5, blocksize: bs });
  };
  try {
    await secs(hessian); // warm-up: pipelines
    const tHessian = await secs(hessian);
    await secs(factor); // warm-up
    const tFactor = await secs(factor);
    // the earlier form, updates per 32 columns, and this one again: side by side
    await secs(factorWith(32));
    const tFactor32 = await secs(factorWith(32));
    const tFactorAgain = await secs(factor);
    const trailing: Skip = (n, a) => n === 'prune/linalg_gemm' && param(a, 10) === 32;
    // Left out of the factor, the trailing updates leave a matrix whose pivots may fail: time them
    // without the status check by catching its refusal.
    const factorWithout = async (skip: Skip) => secs(() => without(gpu, skip, factor).catch(() => undefined));
    const tNoTrailing = await factorWithout(trailing);
    const tNoDiag = await factorWithout((n) => n === 'prune/cholesky_diag');
    await secs(prunes); // warm-up
    const tPrune = await secs(prunes);
    const groups: [string, Skip][] = [
      ['column loop (sparsegpt_block)', (n) => n === 'prune/sparsegpt_block'],
      [`lazy batch update (linalg_gemm, K ${bs})`, (n, a) => n === 'prune/linalg_gemm' && param(a, 2) === bs],
      ['scores and threshold (sparsegpt_score, _hist, _select)', (n) => n === 'prune/sparsegpt_score' || n === 'prune/sparsegpt_hist' || n === 'prune/sparsegpt_select'],
    ];
    const gemmFlops = rows * d * d; // sum over blocks of 2 rows count (d - i2)
    const loopFlops = rows * d * (bs + 8);
    console.log(`SparseGPT by kernel (${rows} x ${d} weight, Hessian of ${tokens} tokens, blocksize ${bs}; ${gpu.info.description}):`);
    console.log(`  Hessian accumulation (prune/hessian): ${tHessian.toFixed(2)} s (${((tokens * d * d) / tHessian / 1e9).toFixed(2)} GFLOP/s)`);
    console.log(`  inverse factor (damp, Cholesky, triangular inverse, reverse): ${tFactor.toFixed(2)} s (${((d ** 3 * 2) / 3 / tFactor / 1e9).toFixed(2)} GFLOP/s of the ~2/3 d^3 flops)`);
    console.log(`    of which the trailing updates (linalg_gemm, chunks of 32): ${(tFactor - tNoTrailing).toFixed(2)} s; the diagonal blocks (cholesky_diag): ${(tFactor - tNoDiag).toFixed(2)} s`);
    console.log(`    trailing updates deferred per ${FACTOR_SB} columns: ${tFactor.toFixed(2)} s, again ${tFactorAgain.toFixed(2)} s; per 32 columns (the earlier form): ${tFactor32.toFixed(2)} s`);
    console.log(`  whole prune (factor included): ${tPrune.toFixed(2)} s`);
    // One product of the lazy update's shape (K = the block size) and of the factor's trailing updates
    // (K = 32), by prune/linalg_gemm and by the forward's nn/matmul (the same gemm_core), for comparison.
    for (const K of [bs, 32]) {
      const a = gpu.tensor([rows, K], 'f32', 'bench.a');
      const out = gpu.tensor([rows, d], 'f32', 'bench.out');
      const B = { rows: d, cols: K, chunks: [{ tensor: gpu.tensor([d, K], 'f32', 'bench.b'), rowStart: 0, rows: d }] };
      const ub = gpu.tensor([K, d], 'f32', 'bench.ub');
      const mm = async () => ops.matmul(gpu, a, rows, B, out);
      const lg = async () => gemmSub(gpu, a, ub, out, { M: rows, N: d, K, lda: K, ldb: d, ldc: d, aOff: 0, bOff: 0, cOff: 0 });
      await secs(mm);
      await secs(lg);
      const [tMm, tLg] = [await secs(mm), await secs(lg)];
      [a, out, ub, B.chunks[0].tensor].forEach((t) => t.destroy());
      const rate = (t: number) => `${t.toFixed(3)} s (${((2 * rows * d * K) / t / 1e9).toFixed(2)} GFLOP/s)`;
      console.log(`  one product ${rows} x ${d} x ${K}: prune/linalg_gemm ${rate(tLg)}; nn/matmul ${rate(tMm)}`);
    }
    {
      // The Cholesky's deferred update (lower triangle, both operands read from C itself, B transposed,
      // chunks of 32) against the same product from separate buffers (full square), both K = 128.
      const n = d - 128;
      const c = gpu.tensor([d, d], 'f32', 'bench.c');
      gpu.copy(H, 0, c, 0, d * d);
      const a = gpu.tensor([d, d], 'f32', 'bench.a');
      gpu.copy(H, 0, a, 0, d * d);
      const g = { M: n, N: n, K: 128, kChunk: 32, lda: d, ldb: d, ldc: d, aOff: 128 * d, bOff: 128 * d, cOff: 128 * d + 128, bTrans: true };
      const lowerFromC = async () => gemmSub(gpu, 'c', 'c', c, { ...g, lower: true }, a);
      const fullFromC = async () => gemmSub(gpu, 'c', 'c', c, g, a);
      const separate = async () => gemmSub(gpu, a, a, c, g);
      const line: string[] = [];
      for (const [what, fn, flops] of [['lower, from C', lowerFromC, n * n * 128], ['full, from C', fullFromC, 2 * n * n * 128], ['full, separate operands', separate, 2 * n * n * 128]] as const) {
        await secs(fn);
        const t = await secs(fn);
        line.push(`${what} ${t.toFixed(3)} s (${(flops / t / 1e9).toFixed(2)} GFLOP/s)`);
      }
      console.log(`  the factor's deferred update ${n} x ${n} x 128 (B transposed): ${line.join('; ')}`);
      [a, c].forEach((t) => t.destroy());
    }
    {
      // The fixed cost of one small dispatch (one 64 x 64 tile, K 32), 100 in one submit.
      const a = gpu.tensor([64, 32], 'f32', 'bench.a'), b = gpu.tensor([32, 64], 'f32', 'bench.b'), c = gpu.tensor([64, 64], 'f32', 'bench.c');
      const small = async () => {
        for (let i = 0; i < 100; i++) gemmSub(gpu, a, b, c, { M: 64, N: 64, K: 32, lda: 32, ldb: 64, ldc: 64, aOff: 0, bOff: 0, cOff: 0 });
      };
      await secs(small);
      console.log(`  one 64 x 64 x 32 prune/linalg_gemm dispatch (100 in a row): ${((await secs(small)) * 10).toFixed(2)} ms each`);
      [a, b, c].forEach((t) => t.destroy());
    }
    for (const [what, skip] of groups) {
      const t = await secs(() => without(gpu, skip, prunes));
      const flops = what.startsWith('column') ? loopFlops : what.startsWith('lazy') ? gemmFlops : 0;
      const dt = tPrune - t;
      console.log(`    ${what}: ${dt.toFixed(2)} s${flops && dt > 0.05 * tPrune ? ` (${(flops / dt / 1e9).toFixed(2)} GFLOP/s)` : ''}`);
    }
    // Wanda's per-row selection (prune/row_select) of the same weight, for comparison.
    const scaler = gpu.upload(rand(d, 3).map((v) => v * v + 0.1), [d], 'bench.scaler');
    const select = async () => {
      gpu.copy(w0, 0, w, 0, rows * d);
      prune.rowSelect(gpu, w, scaler, rows, d, Math.floor(d / 2));
    };
    await secs(select);
    console.log(`  Wanda's row selection of the same weight (prune/row_select, 50 %): ${(await secs(select)).toFixed(2)} s`);
    scaler.destroy();
    // The non-finite check every pruned matrix gets (util/nonfinite): one entry per invocation (the GPU
    // form, and the CPU adapters' before the entries per invocation) and this adapter's form.
    const { countNonFinite } = await import('../src/gpu/finite');
    const counter = gpu.upload(Uint32Array.from([0, 0xffffffff]), [2], 'bench.counter');
    const info = gpu.info as { cpu: boolean };
    const cpu = info.cpu;
    const finite = (asCpu: boolean) => async () => {
      info.cpu = asCpu;
      try {
        countNonFinite(gpu, w, rows * d, counter, 0);
      } finally {
        info.cpu = cpu;
      }
    };
    const perForm: string[] = [];
    for (const asCpu of [false, true]) {
      await secs(finite(asCpu));
      perForm.push(`${asCpu ? 'CPU form' : 'one entry per invocation'} ${(await secs(finite(asCpu))).toFixed(3)} s`);
    }
    console.log(`  the non-finite check of the same weight (util/nonfinite): ${perForm.join('; ')}`);
    counter.destroy();
  } finally {
    [x, coef, H, w0, w].forEach((t) => t.destroy());
  }
}
