import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planStudy } from '../../src/experiment/study';
import { decodeRecordLink } from '../../src/experiment/share';
import type { ExperimentRecord } from '../../src/experiment/records';
import { runCli, requireCliBundle } from '../helpers/cli';

const cli = (args: string[]) => runCli(args, 120_000);

let tmp: string;
let rec: ExperimentRecord;
beforeAll(async () => {
  requireCliBundle();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-share-'));
  rec = await planStudy({ source: 'https://example.org/m/', name: 'tiny', sha256: 'b'.repeat(64) }, 'lavapipe', { method: 'wanda', sparsity: 0.5, nsamples: 4, seqlen: 32, evalSeqlen: 32 }, {
    sources: ['de', 'en'].map((l) => ({ label: l, texts: [{ name: `${l}.txt`, text: `text ${l}`, language: l }] })),
    columns: ['de', 'en'].map((l) => ({ language: l, text: { name: `eval-${l}.txt`, text: `eval ${l}` } })),
  });
  rec.cells.forEach((row, r) => row.forEach((c, k) => ((c.ppl[0] = 10 + r + k / 10), (c.bpb[0] = 1 + r / 10 + k / 100))));
  rec.rows.slice(1).forEach((r) => (r.sparsity[0] = 0.5));
  rec.complete = true;
  writeFileSync(path.join(tmp, 'grid.json'), JSON.stringify(rec, null, 2));
});

describe('polyprune share / show', () => {
  it('prints a link that decodes to the same record, and show prints its tables', () => {
    const r = cli(['share', path.join(tmp, 'grid.json'), '--base', 'https://lab.example/polyprune/']);
    expect(r.code, r.stderr).toBe(0);
    const link = r.stdout.trim();
    expect(link).toMatch(/^https:\/\/lab\.example\/polyprune\/#r=1\.[A-Za-z0-9_-]+$/);
    expect(decodeRecordLink(link).record).toEqual(rec);
    const s = cli(['show', link]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain('experiment result');
    expect(s.stdout).toContain('| dense (no pruning) | 10.00 | 10.10 |');
    expect(s.stdout).toContain('| de | **11.00** | **11.10** |');
    expect(s.stdout).toContain('bits per byte');
    expect(cli(['show', path.join(tmp, 'grid.json')]).stdout).toBe(s.stdout);
    // ppl / eval / prune --json put the record under `result`.
    writeFileSync(path.join(tmp, 'wrapped.json'), JSON.stringify({ model: 'x', ppl: 1, result: rec }));
    expect(cli(['share', path.join(tmp, 'wrapped.json'), '--base', 'https://lab.example/polyprune/']).stdout).toBe(r.stdout);
    // Default base: the app served by `npm start`.
    expect(cli(['share', path.join(tmp, 'grid.json')]).stdout).toMatch(/^http:\/\/127\.0\.0\.1:4173\/#r=1\./);
  });

  it('bad input ends with one line and a non-zero exit code', () => {
    writeFileSync(path.join(tmp, 'not-a-record.json'), JSON.stringify({ model: 'x', dense: {} }));
    writeFileSync(path.join(tmp, 'newer.json'), JSON.stringify({ ...rec, version: 7 }));
    const cases: [string[], RegExp][] = [
      [['share', path.join(tmp, 'missing.json')], /Cannot read/],
      [['share', path.join(tmp, 'not-a-record.json')], /not a PolyPrune result/],
      [['share', path.join(tmp, 'newer.json')], /newer PolyPrune/],
      [['share', path.join(tmp, 'grid.json'), '--base', 'ftp://x/'], /http\(s\)/],
      [['show', 'https://x/#r=1.AAAA'], /damaged/],
      [['show', 'https://x/#r=9.AAAA'], /newer PolyPrune/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBeGreaterThan(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/at .*\.(m?js|ts):\d+/);
    }
  });
});
