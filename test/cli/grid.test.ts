import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseResultRecord, type ExperimentRecord } from '../../src/experiment/records';
import { FIXTURE, SHARED, requireShared } from '../helpers/fixture';
import { loadModelConfig } from '../../src/io/config';
import { dirFolder } from '../../src/io/node';
import { openCheckpoint } from '../../src/io/safetensors';
import { checkpointTensors, exportedBytes } from '../../src/export/size';
import { CLI_BIN as BIN, runCli, requireCliBundle } from '../helpers/cli';

/** `polyprune grid` with own files on the stories260K fixture (small settings). */
const cli = (args: string[]) => runCli(args);

let tmp: string;
let base: string[];
beforeAll(() => {
  requireCliBundle();
  requireShared(FIXTURE);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'polyprune-grid-'));
  const book = (loc: string) => readFileSync(requireShared(path.join(SHARED, `data/text/debian-handbook/${loc}.txt`)), 'utf8').split('\n');
  const en = book('en-US');
  const de = book('de-DE');
  writeFileSync(path.join(tmp, 'handbook-en.txt'), en.slice(0, 600).join('\n'));
  writeFileSync(path.join(tmp, 'handbuch.txt'), de.slice(0, 600).join('\n'));
  writeFileSync(path.join(tmp, 'held-out-en.txt'), en.slice(2371, 2600).join('\n\n'));
  writeFileSync(path.join(tmp, 'wino.jsonl'), readFileSync(requireShared(path.join(SHARED, 'data/tasks/xwinograd/xwinograd.en.jsonl')), 'utf8').split('\n').slice(0, 20).join('\n'));
  base = ['grid', '-m', FIXTURE, '--calib', path.join(tmp, 'handbook-en.txt'), path.join(tmp, 'handbuch.txt'), '--eval', path.join(tmp, 'held-out-en.txt'), '--task', `xwinograd_en:${path.join(tmp, 'wino.jsonl')}`, '--method', 'wanda', '--sparsity', '0.5', '--nsamples', '4', '--seqlen', '64', '--eval-seqlen', '64', '--eval-max-windows', '2', '--task-limit', '4'];
});

describe('polyprune grid', () => {
  it('two own calibration files (languages detected), a mix, and one task: --json prints the experiment record', () => {
    const mix = `${path.join(tmp, 'handbook-en.txt')}*2+${path.join(tmp, 'handbuch.txt')}`;
    const i = base.indexOf('--eval');
    const r = cli([...base.slice(0, i), mix, ...base.slice(i), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = parseResultRecord(JSON.parse(r.stdout)) as ExperimentRecord;
    expect(rec.kind).toBe('experiment');
    expect(rec.complete).toBe(true);
    expect(rec.rows.map((x) => [x.label, x.sources[0]?.language ?? null])).toEqual([
      ['dense', null],
      ['handbook-en.txt', 'en'],
      ['handbuch.txt', 'de'],
      ['handbook-en.txt*2+handbuch.txt', 'en'],
    ]);
    expect(rec.rows[3].sources.map((x) => [x.language, x.weight])).toEqual([
      ['en', 2],
      ['de', 1],
    ]);
    expect(rec.rows[1].sources[0].bytes).toBe(readFileSync(path.join(tmp, 'handbook-en.txt')).byteLength);
    expect(rec.columns).toMatchObject([{ language: 'en', text: { name: 'held-out-en.txt' }, tasks: [{ task: 'xwinograd', label: 'xwinograd_en', n: 4 }] }]);
    for (const row of rec.cells) {
      expect(row[0].ppl[0]).toBeGreaterThan(1);
      expect(row[0].acc[0][0]).toBeGreaterThanOrEqual(0);
    }
    expect(rec.rows[2].recon[0]).toHaveLength(5);
    expect(rec.iou).toHaveLength(3);
  }, 600_000);

  it('--instant --json: one statistics collection per seed, every row derived from it, rows carry mix; --confirm adds the exact rows', () => {
    const mix = `${path.join(tmp, 'handbook-en.txt')}*2+${path.join(tmp, 'handbuch.txt')}`;
    const i = base.indexOf('--eval');
    const r = cli([...base.slice(0, i), mix, ...base.slice(i), '--seeds', '0,1', '--instant', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = parseResultRecord(JSON.parse(r.stdout)) as ExperimentRecord;
    expect(rec.complete).toBe(true);
    expect(rec.spec.instant).toBe(true);
    // one pass per seed over the two texts (the mix row reuses them); no sequential prune
    expect(r.stderr.match(/collected the statistics of 2 calibration texts in one pass/g)).toHaveLength(2);
    expect(r.stderr).not.toMatch(/layer \d+\/\d+ pruned/);
    expect(rec.rows.map((x) => [x.label, x.mix?.mode, x.mix?.weights.map((w) => w.toFixed(4)), x.mix?.windows])).toEqual([
      ['dense', undefined, undefined, undefined],
      ['handbook-en.txt', 'instant', ['1.0000'], [4]],
      ['handbuch.txt', 'instant', ['1.0000'], [4]],
      ['handbook-en.txt*2+handbuch.txt', 'instant', ['0.6667', '0.3333'], [4, 4]],
    ]);
    for (const row of rec.rows.slice(1)) {
      expect(row.mix!.updateMs!.every((x) => x! > 0)).toBe(true);
      expect(row.sparsity.every((x) => Math.abs(x! - 0.5) < 0.01)).toBe(true);
    }
    // seeds draw different windows: different statistics, different masks
    expect(rec.cells[1][0].ppl[0]).not.toBe(rec.cells[1][0].ppl[1]);
    for (const row of rec.cells.slice(1)) expect(row[0].acc[0].every((x) => x !== null)).toBe(true);
    expect(rec.iou).toHaveLength(3);

    const c = cli([...base, '--instant', '--confirm', '--no-mask-overlap']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/instant rows: masks mixed from the dense statistics of one calibration pass per seed; '\(exact\)' rows/);
    expect(c.stdout).toMatch(/\| handbuch.txt \(exact\) \|/);
    expect(c.stdout).toMatch(/handbook-en.txt \(exact\): exact, 4 windows, mask IoU with the instant masks per layer 1.000 /);

    const bad = cli([...base, '--confirm']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/--confirm compares instant rows with the exact prune; add --instant\.$/);
    const lang = cli([...base.slice(0, base.indexOf('--method')), '--method', 'wanda-lang', '--sparsity', '0.5', '--instant']);
    expect(lang.code).toBe(2);
    expect(lang.stderr.trim().split('\n').at(-1)).toMatch(/wanda-lang's score needs their spread/);
    const ria = cli([...base.slice(0, base.indexOf('--method')), '--method', 'ria', '--sparsity', '0.5', '--instant']);
    expect(ria.code).toBe(2);
    expect(ria.stderr.trim().split('\n').at(-1)).toMatch(/RIA's score is not one the mixer forms\. Run RIA without the instant mode\.$/);
  }, 600_000);

  it('--method ria: one RIA prune per calibration row, recorded as ria', () => {
    const r = cli(['grid', '-m', FIXTURE, '--calib', path.join(tmp, 'handbook-en.txt'), '--eval', path.join(tmp, 'held-out-en.txt'), '--method', 'ria', '--sparsity', '0.5', '--nsamples', '2', '--seqlen', '32', '--eval-seqlen', '32', '--eval-max-windows', '1', '--no-mask-overlap', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rec = parseResultRecord(JSON.parse(r.stdout)) as ExperimentRecord;
    expect(rec.spec.method).toBe('ria');
    expect(rec.rows.map((x) => x.label)).toEqual(['dense', 'handbook-en.txt']);
    expect(Math.abs(rec.rows[1].sparsity[0]! - 0.5)).toBeLessThan(0.01);
    expect(rec.cells[1][0].ppl[0]).toBeGreaterThan(rec.cells[0][0].ppl[0]!);
  }, 300_000);

  it('--variant: Wanda 50 %, SparseGPT 2:4 and GPTQ 4-bit side by side per calibration source, with the exported size (record version 2)', async () => {
    const r = cli(['grid', '-m', FIXTURE, '--calib', path.join(tmp, 'handbook-en.txt'), '--eval', path.join(tmp, 'held-out-en.txt'), '--variant', 'wanda@0.5', 'sparsegpt@2:4', 'gptq@4bit', 'sparsegpt@2:4+4bit', '--nsamples', '2', '--seqlen', '32', '--eval-seqlen', '32', '--eval-max-windows', '1', '--no-recon', '--out', path.join(tmp, 'variants.json')]);
    expect(r.code, r.stderr).toBe(0);
    const rec = parseResultRecord(readFileSync(path.join(tmp, 'variants.json'), 'utf8')) as ExperimentRecord;
    expect(rec.version).toBe(2);
    expect(rec.spec.variants?.map((v) => [v.method, v.sparsity, v.nm, v.quantize?.bits ?? null])).toEqual([
      ['wanda', 0.5, null, null],
      ['sparsegpt', 0.5, { n: 2, m: 4 }, null],
      ['gptq', 0, null, 4],
      ['sparsegpt', 0.5, { n: 2, m: 4 }, 4],
    ]);
    expect(rec.rows.map((x) => [x.label, x.variant ?? null])).toEqual([
      ['dense', null],
      ['wanda 50% · handbook-en.txt', 0],
      ['sparsegpt 2:4 · handbook-en.txt', 1],
      ['gptq 4-bit g128 · handbook-en.txt', 2],
      ['sparsegpt 2:4 + 4-bit per-channel · handbook-en.txt', 3],
    ]);
    // SparseGPT's joint mode: 2:4 and 4-bit per channel in one pass, stored as GPTQ
    expect(rec.spec.variants![3].quantize).toEqual({ bits: 4, groupSize: -1, actOrder: false, staticGroups: false });
    expect(Math.abs(rec.rows[4].sparsity[0]! - 0.5)).toBeLessThan(0.02);
    // GPTQ prunes nothing: its "sparsity" is the share of weights whose code dequantizes to 0
    expect(rec.rows[3].sparsity[0]).toBeLessThan(0.3);
    for (const row of rec.cells) expect(row[0].ppl[0]).toBeGreaterThan(1);
    // the size column is the export's own accounting (exportedBytes): dense and pruned rows the hf folder; the
    // GPTQ rows too here, since hf-gptq cannot pack stories260K's 172-wide MLP (test/export/gptqHf.test.ts
    // checks GPTQ rows that it can pack against written files)
    const dense = rec.rows[0].size!;
    const cfg = await loadModelConfig(dirFolder(FIXTURE));
    const ckpt = await openCheckpoint(dirFolder(FIXTURE));
    expect(dense).toEqual({ bytes: exportedBytes({ cfg, tensors: checkpointTensors(ckpt), format: 'hf' }).total, format: 'safetensors' });
    await ckpt.close();
    expect(rec.rows.slice(1).map((x) => x.size)).toEqual([dense, dense, dense, dense]);
    // masked pairs: wanda, sparsegpt and the joint row (the GPTQ row has no mask)
    expect(rec.iou.map((m) => [m.a, m.b])).toEqual([
      [1, 2],
      [1, 4],
      [2, 4],
    ]);
    expect(r.stdout).toMatch(/\| gptq 4-bit g128 · handbook-en.txt \| [\d,]+ \| HF safetensors \(dense\) \|/);
    expect(r.stdout).toMatch(/Best row at each size/);
  }, 300_000);

  it('refuses unclear input with one line, before loading anything', () => {
    const cases: [string[], RegExp][] = [
      [[...base.slice(0, base.indexOf('--sparsity')), '--nsamples', '4'], /exactly one of --sparsity <ratio> or --nm <N:M>; there is no default/],
      [['grid', '-m', FIXTURE, '--data', path.join(tmp, 'nodata'), '--calib-langs', 'en,en', '--method', 'wanda', '--sparsity', '0.5'], /--calib-langs lists 'en' twice/],
      [[...base, '--calib', path.join(tmp, 'handbook-en.txt'), path.join(tmp, 'handbook-en.txt')], /--calib lists .* twice/],
      [[...base.slice(0, 6), '--eval', path.join(tmp, 'held-out-en.txt'), '--task', `xcopa_it:${path.join(tmp, 'wino.jsonl')}`, '--method', 'wanda', '--sparsity', '0.5'], /is in 'it', but there is no held-out text in 'it' \(evaluation languages: en\)/],
      [[...base, '--seeds', '0,0'], /--seeds lists '0' twice/],
      [[...base.slice(0, 4), `${path.join(tmp, 'handbook-en.txt')}*0+${path.join(tmp, 'handbuch.txt')}`, ...base.slice(5)], /the weight of '.*handbook-en.txt' must be a positive number/],
    ];
    const one = ['grid', '-m', FIXTURE, '--calib', path.join(tmp, 'handbook-en.txt'), '--eval', path.join(tmp, 'held-out-en.txt')];
    cases.push(
      [[...one, '--variant', 'wanda'], /'wanda' names no pattern; write method@pattern/],
      [[...one, '--variant', 'gptq@0.5'], /gptq quantizes: give the bits/],
      [[...one, '--variant', 'gptq@4bit+0.5'], /gptq quantizes and prunes nothing/],
      [[...one, '--variant', 'wanda@0.5+4bit'], /wanda prunes and takes no bits .* or prune and quantize together with sparsegpt/],
      [[...one, '--variant', 'sparsegpt@2:4+4bit/g64'], /joint prune \+ quantize mode quantizes per channel/],
      [[...one, '--variant', 'wanda@0.5', 'wanda@50%'], /The methods to compare lists 'wanda 50%' twice/],
      [[...one, '--variant', 'wanda@0.5', '--method', 'wanda'], /either with --variant .* or with --method/],
      [[...one, '--variant', 'wanda@0.5', 'gptq@4bit', '--instant'], /Instant rows mix the statistics of one method/],
      // gptqmix: GPTQ's instant rows are offered, SparseGPT's joint prune + quantize is not
      [[...one, '--variant', 'sparsegpt@0.5+4bit', '--instant'], /The instant mode's sparsegpt prunes only; run sparsegpt's joint prune \+ quantize without the instant mode/],
      [[...one, '--method', 'gptq'], /gptq quantizes: give --bits/],
    );
    const short = path.join(tmp, 'short.txt');
    writeFileSync(short, '12 34 56');
    cases.push([['grid', '-m', FIXTURE, '--calib', short, '--eval', path.join(tmp, 'held-out-en.txt'), '--method', 'wanda', '--sparsity', '0.5'], /Cannot identify the language of '.*short.txt'; give it as --calib .*short.txt:<lang>/]);
    for (const [args, msg] of cases) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 300_000);

  it('Ctrl-C keeps what was measured (record marked incomplete), --resume finishes it', async () => {
    const out = path.join(tmp, 'partial.json');
    const child = spawn(process.execPath, [BIN, ...base, '--seeds', '0,1', '--json', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    let sent = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      // interrupt once the first pruned row has been measured
      if (!sent && /\] handbook-en\.txt → en: xwinograd_en/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(sent, stderr).toBe(true);
    expect(code).toBe(130); // cancelled (128 + SIGINT)
    expect(stderr).toMatch(/polyprune: Cancelled; .* values were measured; the record above is marked incomplete \(written to .*partial\.json; continue with --resume/);
    const rec = parseResultRecord(JSON.parse(stdout)) as ExperimentRecord;
    expect(rec.complete).toBe(false);
    expect(rec.cells[1][0].ppl[0]).not.toBeNull();
    expect(rec.cells[2][0].ppl[1]).toBeNull();
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(rec);

    const r = cli([...base, '--seeds', '0,1', '--json', '--resume', out]);
    expect(r.code, r.stderr).toBe(0);
    const done = parseResultRecord(JSON.parse(r.stdout)) as ExperimentRecord;
    expect(done.complete).toBe(true);
    expect(done.cells[1][0].ppl[0]).toBe(rec.cells[1][0].ppl[0]);
    expect(done.cells[2][0].ppl[1]).not.toBeNull();
  }, 600_000);
});
