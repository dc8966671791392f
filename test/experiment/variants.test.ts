import { describe, it, expect } from 'vitest';
import { parseVariant, parseVariantList, variantLabel, variantText } from '../../src/experiment/variants';
import { engineRowSizer, rowSizeOf, type RowSizer } from '../../src/experiment/size';
import type { ExportQuantSettings, ExportSizes } from '../../src/engine/api';
import { planStudy, resolveVariants, rowSizes, sizeWinners, studySizeMarkdown } from '../../src/experiment/study';
import { parseResultRecord, type ExperimentRecord } from '../../src/experiment/records';

const hex = (k: number) => k.toString(16).padStart(2, '0').repeat(32);
const model = { source: 'models/x/', name: 'x', sha256: hex(1), modelType: 'llama', parameters: 0, layers: 2 };
/** Export sizes of a model as Engine.exportSizes gives them (the byte counts are made up; test/export/gptqHf.test.ts compares the real ones with written files). */
const sizesFor = (q: ExportQuantSettings | null): ExportSizes => ({
  hf: { bytes: 26_000_000, files: { 'model.safetensors': 26_000_000 } },
  'hf-gptq': q ? (q.bits === 3 ? { refused: "'x' is 172 x 64 (out x in), not a multiple of 32" } : { bytes: 10_000_000 + q.bits, files: { 'model.safetensors': 10_000_000 + q.bits } }) : { refused: 'hf-gptq needs a GPTQ model quantized in this session.' },
  onnx: { bytes: 27_000_000, files: { 'onnx/model.onnx': 27_000_000 } },
});
const sizer: RowSizer = async (q) => rowSizeOf(sizesFor(q), !!q);
const dense = 26_000_000;

describe('method variants of an experiment', () => {
  it('parses method@pattern, writes it back, and labels it', () => {
    expect(parseVariant('wanda@0.5')).toEqual({ method: 'wanda', sparsity: 0.5 });
    expect(parseVariant(' sparsegpt @ 2:4 ')).toEqual({ method: 'sparsegpt', nm: { n: 2, m: 4 } });
    expect(parseVariant('gptq@4bit')).toEqual({ method: 'gptq', quantize: { bits: 4 } });
    expect(parseVariant('sparsegpt@2:4+4bit')).toEqual({ method: 'sparsegpt', nm: { n: 2, m: 4 }, quantize: { bits: 4 } });
    expect(parseVariant('gptq@3bit/g32/act-order')).toEqual({ method: 'gptq', quantize: { bits: 3, groupSize: 32, actOrder: true } });
    expect(parseVariantList('wanda@50%, gptq@8bit/per-channel').map(variantText)).toEqual(['wanda@0.5', 'gptq@8bit/per-channel']);
    const { labels } = resolveVariants({ method: 'wanda', variants: parseVariantList('wanda@0.5, sparsegpt@2:4, gptq@4bit, sparsegpt@0.5+4bit') });
    expect(labels).toEqual(['wanda 50%', 'sparsegpt 2:4', 'gptq 4-bit g128', 'sparsegpt 50% + 4-bit per-channel']);
    expect(variantLabel({ method: 'gptq', sparsity: 0, nm: null, quantize: { bits: 2, groupSize: -1, actOrder: false, staticGroups: true } })).toBe('gptq 2-bit per-channel static');
    for (const [t, msg] of [
      ['wanda', /names no pattern/],
      ['nope@0.5', /Unknown pruning method 'nope'/],
      ['gptq@4bit/g0x', /unknown quantizer option 'g0x'/],
      ['wanda@0.5+2:4', /two pruning patterns/],
      ['gptq@four-bit', /'four-bit' is not a bit width/],
    ] as const)
      expect(() => parseVariant(t)).toThrow(msg);
    expect(() => resolveVariants({ method: 'wanda', variants: [{ method: 'gptq', quantize: { bits: 5 } }] })).toThrow(/GPTQ quantizes to 2, 3, 4 or 8 bits, got 5/);
    expect(() => resolveVariants({ method: 'wanda', variants: [{ method: 'wanda', sparsity: 0.5, quantize: { bits: 4 } }] })).toThrow(/wanda prunes and takes no bits/);
  });

  it("sizes: the export's own accounting, hf for dense and pruned rows, hf-gptq for quantized ones where it holds the model (else hf), one engine call per quantizer", async () => {
    const q4 = { bits: 4, groupSize: 128, actOrder: false, staticGroups: false };
    expect(rowSizeOf(sizesFor(null), false)).toEqual({ bytes: dense, format: 'safetensors' });
    expect(rowSizeOf(sizesFor(q4), true)).toEqual({ bytes: 10_000_004, format: 'gptq' });
    expect(rowSizeOf(sizesFor({ ...q4, bits: 3 }), true)).toEqual({ bytes: dense, format: 'safetensors' });
    expect(() => rowSizeOf({ ...sizesFor(null), hf: { refused: 'no such model' } }, false)).toThrow(/^no such model$/);
    const calls: unknown[] = [];
    const s = engineRowSizer({ exportSizes: async (id, as) => (calls.push([id, as]), sizesFor(as?.quantize ?? null)) }, 'base');
    expect(await Promise.all([s(null), s(q4), s({ ...q4 }), s(null)])).toEqual([
      { bytes: dense, format: 'safetensors' },
      { bytes: 10_000_004, format: 'gptq' },
      { bytes: 10_000_004, format: 'gptq' },
      { bytes: dense, format: 'safetensors' },
    ]);
    expect(calls).toEqual([['base', undefined], ['base', { quantize: q4 }]]);
  });

  it('plans one row per variant and source (record version 2), sizes them, and names the winner at each size', async () => {
    const inputs = {
      sources: [
        { label: 'de', texts: [{ name: 'de.txt', text: 'Hallo Welt', language: 'de' }] },
        { label: 'en', texts: [{ name: 'en.txt', text: 'Hello world', language: 'en' }] },
      ],
      columns: [{ language: 'de', text: { name: 'de-eval.txt', text: 'Guten Tag' } }],
    };
    const rec = await planStudy(model, 'test', { method: 'wanda', nsamples: 4, seqlen: 8, evalSeqlen: 8, variants: [{ method: 'magnitude', sparsity: 0.5 }, { method: 'wanda', sparsity: 0.5 }, { method: 'gptq', quantize: { bits: 4 } }] }, inputs, sizer);
    expect(rec.version).toBe(2);
    expect(rec.rows.map((r) => [r.label, r.variant ?? null, r.size?.format])).toEqual([
      ['dense', null, 'safetensors'],
      ['magnitude 50%', 0, 'safetensors'],
      ['wanda 50% · de', 1, 'safetensors'],
      ['wanda 50% · en', 1, 'safetensors'],
      ['gptq 4-bit g128 · de', 2, 'gptq'],
      ['gptq 4-bit g128 · en', 2, 'gptq'],
    ]);
    expect((await rowSizes(rec, sizer)).map((s) => s.bytes)).toEqual(rec.rows.map((r) => r.size!.bytes));
    // measured: wanda · de is best among the full-size rows, gptq · en at the GPTQ size
    [1, 2, 3, 4, 5].forEach((r, i) => (rec.cells[r][0].ppl[0] = [90, 20, 30, 40, 25][i]));
    rec.cells[0][0].ppl[0] = 15;
    rec.complete = true;
    const back = parseResultRecord(JSON.parse(JSON.stringify(rec))) as ExperimentRecord;
    expect(sizeWinners(back).map((w) => [w.bytes, back.rows[w.row].label])).toEqual([
      [rec.rows[4].size!.bytes, 'gptq 4-bit g128 · en'],
      [dense, 'wanda 50% · de'],
    ]);
    expect(studySizeMarkdown(back)).toMatch(/\| gptq 4-bit g128 · en \| [\d,]+ \| HF GPTQ \| 25\.00 \|/);
    // a version-1 record cannot hold variants (an older build would misread its rows)
    expect(() => parseResultRecord({ ...back, version: 1 })).toThrow(/need record version 2/);
    expect(() => parseResultRecord({ ...back, rows: back.rows.map((r, i) => (i === 1 ? { ...r, variant: 7 } : r)) })).toThrow(/row 1 names method variant 7, but the spec has 3/);
  });
});
