/** The page's spill bench (bench/page/main.ts), in a dedicated worker: OPFS sync access handles exist only there. */
import { opfsSpill } from '../../src/io/opfs';
import { memoryStore, openTensorStore } from '../../src/io/spill';
import { MATRIX_BYTES, measureStore, spillReport } from '../spillCore';

self.onmessage = async (e: MessageEvent<{ mib: number }>) => {
  const count = Math.max(1, Math.round((e.data.mib * 2 ** 20) / MATRIX_BYTES));
  const mem = memoryStore();
  const disk = await openTensorStore(count * MATRIX_BYTES, { aboveBytes: 0, backing: opfsSpill() });
  try {
    if (disk.kind !== 'disk') throw new Error(`no OPFS spill file: ${disk.warning ?? '?'}`);
    const m = await measureStore(mem, count);
    const d = await measureStore(disk, count);
    self.postMessage({ lines: spillReport('Chromium, an OPFS spill file in a dedicated worker', count, m, d) });
  } catch (err) {
    self.postMessage({ error: String((err as Error)?.message ?? err) });
  } finally {
    await mem.dispose();
    await disk.dispose();
  }
};
