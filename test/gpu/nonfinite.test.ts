import { beforeAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device';
import { FiniteCheck, countNonFinite, refNonFinite } from '../../src/gpu/finite';
import { testGpu, randn } from '../helpers/gpu';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await testGpu();
});

describe('shaders/util/nonfinite', () => {
  it('counts NaN, +Inf and -Inf and finds the first index, as the TS reference does', async () => {
    const n = 70_001; // > 256 workgroups, not a multiple of 256
    const x = randn(n, 7, 1e30); // huge but finite values must not count
    x[5] = 3.4028234663852886e38; // FLT_MAX is finite
    for (const [i, v] of [[40_000, NaN], [123, Infinity], [69_999, -Infinity], [256, NaN], [257, NaN]] as const) x[i] = v;
    const t = gpu.upload(x, [n]);
    const ref = refNonFinite(x);
    expect(ref).toEqual({ count: 5, first: 123 });
    // One entry per invocation (a GPU) and 64 (a CPU adapter, lavapipe here: 5 workgroups, the last partial).
    const info = gpu.info as { cpu: boolean };
    const cpu = info.cpu;
    for (const asCpu of [false, true]) {
      const counter = gpu.upload(Uint32Array.from([0, 0xffffffff, 0, 0xffffffff]), [4]);
      info.cpu = asCpu;
      try {
        countNonFinite(gpu, t, n, counter, 1, 1000);
      } finally {
        info.cpu = cpu;
      }
      expect(Array.from(await gpu.read(counter)), `cpu ${asCpu}`).toEqual([0, 0xffffffff, ref.count, 1000 + ref.first]);
      counter.destroy();
    }
    t.destroy();
  });

  it('finds nothing in finite data (including subnormals, zeros and -0)', async () => {
    const x = randn(4096, 3);
    x[0] = 1e-45;
    x[1] = -0;
    x[2] = 0;
    const t = gpu.upload(x, [4096]);
    const check = new FiniteCheck(gpu);
    check.add('w', t, 4096, { cols: 64 });
    expect(await check.read()).toEqual([]);
    expect(refNonFinite(x)).toEqual({ count: 0, first: -1 });
    t.destroy();
  });

  it('FiniteCheck merges row chunks of one matrix and reports [row, col], across many items', async () => {
    const cols = 32;
    const a = randn(64 * cols, 1);
    const b = randn(64 * cols, 2);
    b[10 * cols + 4] = NaN; // row 64 + 10 of the whole matrix
    b[20 * cols] = Infinity;
    const ta = gpu.upload(a, [64, cols]);
    const tb = gpu.upload(b, [64, cols]);
    const check = new FiniteCheck(gpu);
    const others = Array.from({ length: 40 }, (_, i) => gpu.upload(randn(100, 100 + i), [100])); // forces the counter to grow
    others.forEach((o, i) => check.add(`v${i}`, o, 100));
    check.add('m', ta, 64 * cols, { base: 0, cols });
    check.add('m', tb, 64 * cols, { base: 64 * cols, cols });
    const bad = await check.read();
    expect(bad).toEqual([{ what: 'm', count: 2, first: 74 * cols + 4, cols }]);
    for (const t of [ta, tb, ...others]) t.destroy();
  });
});
