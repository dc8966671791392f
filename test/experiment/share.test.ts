import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { PolyPruneError } from '../../src/common/errors';
import { base64UrlToBytes, bytesToBase64Url, decodeRecordLink, decodeShareLink, encodeShareFragment, recordShareLink, shareLink, sharePayload, SHARE_MAX_CHARS } from '../../src/experiment/share';
import { parseResultRecord, sig, type ExperimentRecord } from '../../src/experiment/records';
import { planStudy } from '../../src/experiment/study';

// A stand-in record parser: share.ts only needs "validate or throw PolyPruneError".
const rec = z.object({ kind: z.literal('t'), n: z.number(), s: z.string() });
const parse = (v: unknown) => {
  const r = rec.safeParse(v);
  if (!r.success) throw new PolyPruneError('SHARE_INVALID', 'wrong shape');
  return r.data;
};

describe('share links', () => {
  it('base64url round-trips every byte value', () => {
    const bytes = new Uint8Array(70000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 255;
    const s = bytesToBase64Url(bytes);
    expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(base64UrlToBytes(s)).toEqual(bytes);
    expect(base64UrlToBytes('ab=c')).toBeNull();
    expect(base64UrlToBytes('abcde')).toBeNull();
  });

  it('encodes a record into #r=1.<base64url> and back', () => {
    const r = { kind: 't' as const, n: 1.2345678901234567, s: 'Ünïcödé <b>x</b> 中文' };
    const link = shareLink(r, 'https://example.org/app/#old');
    expect(link.startsWith('https://example.org/app/#r=1.')).toBe(true);
    expect(decodeShareLink(link, parse)).toEqual(r);
    expect(decodeShareLink(`#${encodeShareFragment(r)}`, parse)).toEqual(r);
    expect(decodeShareLink(encodeShareFragment(r), parse)).toEqual(r);
    expect(sharePayload('https://x/#a=1&r=1.xyz')).toBe('1.xyz');
    expect(sharePayload('https://x/#a=1')).toBeNull();
  });

  const code = (f: () => unknown): { code: string; message: string } => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(PolyPruneError);
      const err = e as PolyPruneError;
      expect(err.message).not.toContain('\n');
      return { code: err.code, message: err.message };
    }
    throw new Error('expected an error');
  };

  it('refuses truncated and edited links with a clear message', () => {
    const r = { kind: 't' as const, n: 42, s: 'a'.repeat(50) + 'the quick brown fox jumps over the lazy dog' };
    const link = shareLink(r, 'http://h/');
    for (const cut of [link.length - 1, link.length - 3, link.length - 10, Math.floor(link.length / 2), link.indexOf('.') + 2]) {
      expect(code(() => decodeShareLink(link.slice(0, cut), parse)).code).toBe('SHARE_INVALID');
    }
    // Every single-character edit of the payload is caught (checksum, deflate or shape).
    const start = link.indexOf('.') + 1;
    for (let i = start; i < link.length; i++) {
      const c = link[i] === 'A' ? 'B' : 'A';
      const edited = link.slice(0, i) + c + link.slice(i + 1);
      let decoded: unknown;
      try {
        decoded = decodeShareLink(edited, parse);
      } catch (e) {
        expect((e as PolyPruneError).code).toBe('SHARE_INVALID');
        continue;
      }
      // The last character may carry only padding bits: then the bytes are the same.
      expect(decoded).toEqual(r);
    }
    expect(code(() => decodeShareLink('http://h/#r=1.%%%', parse)).code).toBe('SHARE_INVALID');
    expect(code(() => decodeShareLink('http://h/#r=', parse)).code).toBe('SHARE_INVALID');
    expect(code(() => decodeShareLink('http://h/#x=1', parse)).message).toMatch(/not a PolyPrune share link/);
  });

  it('says when a link comes from a newer format version', () => {
    const link = shareLink({ kind: 't', n: 1, s: '' }, 'http://h/').replace('#r=1.', '#r=2.');
    const e = code(() => decodeShareLink(link, parse));
    expect(e.code).toBe('SHARE_NEWER');
    expect(e.message).toMatch(/newer PolyPrune/);
  });

  it('refuses a record of the wrong shape through the parser', () => {
    const link = shareLink({ kind: 'other', n: 'x' }, 'http://h/');
    expect(code(() => decodeShareLink(link, parse)).code).toBe('SHARE_INVALID');
  });

  it('refuses to make or open a link over the limit', () => {
    // Random digits do not compress: this record needs far more than 16 KB.
    let s = '';
    let x = 12345;
    for (let i = 0; i < 30000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      s += String.fromCharCode(48 + (x % 75));
    }
    const e = code(() => shareLink({ kind: 't', n: 1, s }, 'http://h/'));
    expect(e.code).toBe('SHARE_TOO_LARGE');
    expect(e.message).toMatch(/16\.0 KiB/);
    const huge = `http://h/#${encodeShareFragment({ kind: 't', n: 1, s })}`;
    expect(huge.length).toBeGreaterThan(SHARE_MAX_CHARS);
    expect(code(() => decodeShareLink(huge, parse)).code).toBe('SHARE_TOO_LARGE');
  });
});

describe('share links of result records', () => {
  // A 7 x 7 grid (7 calibration languages, 7 evaluation languages) with perplexity, bits per byte and
  // one task per column, three seeds, on a 32-layer model: the size target.
  const langs = ['ar', 'de', 'en', 'es', 'ru', 'sw', 'zh'];
  let x = 7;
  const rnd = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  async function bigRecord(layers: number): Promise<ExperimentRecord> {
    const model = { source: 'https://example.org/models/llama-7b/', name: 'llama <b>7b</b>', sha256: 'a'.repeat(64), modelType: 'llama', parameters: 6.7e9, layers };
    const rec = await planStudy(model, 'NVIDIA <img src=x onerror=alert(1)>', { method: 'wanda', sparsity: 0.5, nsamples: 128, seqlen: 2048, seeds: [0, 1, 2], evalSeqlen: 2048, evalMaxWindows: 64, taskLimit: 500 }, {
      sources: langs.map((l) => ({ label: l, texts: [{ name: `calib/${l}.txt`, text: `calibration text ${l} `.repeat(50), language: l }] })),
      columns: langs.map((l) => ({ language: l, text: { name: `eval/${l}.txt`, text: `held-out ${l} `.repeat(40) }, tasks: [{ label: `xcopa_${l}`, request: { task: 'xcopa', text: `{"premise": "${l}"}` }, fileName: `xcopa-${l}.jsonl` }] })),
    });
    rec.cells.forEach((row) =>
      row.forEach((c) => {
        c.ppl = c.ppl.map(() => sig(5 + 40 * rnd(), 6));
        c.bpb = c.bpb.map(() => sig(0.5 + rnd(), 6));
        c.acc = c.acc.map((a) => a.map(() => sig(0.5 + 0.2 * rnd(), 6)));
        c.se = c.se.map((a) => a.map(() => sig(0.02 * rnd(), 6)));
      }),
    );
    rec.rows.slice(1).forEach((r) => {
      r.sparsity = r.sparsity.map(() => 0.5);
      r.recon = r.recon.map(() => Array.from({ length: layers }, () => rec.matrices.map(() => sig(rnd() * 0.1, 4))));
    });
    for (let s = 0; s < 3; s++) for (let a = 1; a < 8; a++) for (let b = a + 1; b < 8; b++) rec.iou.push({ a, b, s, v: Array.from({ length: layers }, () => rec.matrices.map(() => sig(0.5 + 0.5 * rnd(), 4))) });
    rec.complete = true;
    return parseResultRecord(JSON.parse(JSON.stringify(rec))) as ExperimentRecord;
  }

  it('a 7 x 7 grid with ppl, bpb and one task, three seeds, fits in 16 KB and decodes to the same numbers', async () => {
    const rec = await bigRecord(32);
    const { link, omitted } = recordShareLink(rec, 'https://polyprune.example/');
    expect(link.length).toBeLessThanOrEqual(16 * 1024);
    // 32 layers of per-matrix detail for 7 rows and 3 seeds do not fit; the results do.
    expect(omitted).toEqual(['iou', 'recon']);
    const back = decodeRecordLink(link);
    expect(back.omitted).toEqual(omitted);
    const r = back.record as ExperimentRecord;
    expect(r.cells).toEqual(rec.cells);
    expect(r.spec).toEqual(rec.spec);
    expect(r.columns).toEqual(rec.columns);
    expect(r.rows.map((x) => [x.label, x.sources, x.sparsity])).toEqual(rec.rows.map((x) => [x.label, x.sources, x.sparsity]));
    expect(r.model.name).toBe('llama <b>7b</b>');
    expect(r.iou).toEqual([]);
  });

  it('keeps per-layer detail when it fits', async () => {
    const rec = await bigRecord(2);
    const { link, omitted } = recordShareLink({ ...rec, iou: rec.iou.slice(0, 3) }, 'http://h/');
    expect(omitted).toEqual([]);
    const back = decodeRecordLink(link).record as ExperimentRecord;
    expect(back.rows).toEqual(rec.rows);
    expect(back.iou).toEqual(rec.iou.slice(0, 3));
  });

  it('says so when the record inside is from a newer PolyPrune or of the wrong shape', async () => {
    const rec = await bigRecord(1);
    const newer = shareLink({ record: { ...rec, version: 99 } }, 'http://h/');
    expect(() => decodeRecordLink(newer)).toThrow(expect.objectContaining({ code: 'SHARE_NEWER', message: expect.stringMatching(/newer PolyPrune/) }));
    const wrong = shareLink({ record: { ...rec, cells: 'x' } }, 'http://h/');
    expect(() => decodeRecordLink(wrong)).toThrow(expect.objectContaining({ code: 'SHARE_INVALID', message: expect.stringMatching(/no valid result.*cells/) }));
    expect(() => decodeRecordLink(shareLink([1, 2], 'http://h/'))).toThrow(expect.objectContaining({ code: 'SHARE_INVALID' }));
  });
});
