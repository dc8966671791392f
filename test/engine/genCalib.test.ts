/**
 * engine.generateCalibration on the stories260K fixture: the same request writes the same text (same
 * SHA-256) and another seed another; the perplexity filter keeps the windows the model finds most
 * likely; the provenance says how to write it again; bad settings are refused in one line.
 */
import { describe, it, expect } from 'vitest';
import type { LocalEngine } from '../../src/engine/local';
import { DEFAULT_GEN_CALIBRATION, parseGenSource, genSourceName, type GenerateCalibrationRequest, type ModelSummary } from '../../src/engine/api';
import { sha256Hex } from '../../src/calib/text';
import { useFixtureEngine } from '../helpers/engine';
import { outcome } from '../helpers/errors';

let engine: LocalEngine;
let base: ModelSummary;
useFixtureEngine((f) => void ({ engine, base } = f));

const req: GenerateCalibrationRequest = { language: 'en', prompt: 'Once upon a time', windows: 6, tokens: 24, seed: 0, ...DEFAULT_GEN_CALIBRATION };

describe('self-generated calibration text', () => {
  it('is reproducible from its provenance, and the filter keeps the most likely windows', async () => {
    const a = await engine.generateCalibration(base.id, req);
    expect(a.sha256).toBe(await sha256Hex(new TextEncoder().encode(a.text)));
    expect(a.written).toBe(8); // ceil(6 / 0.8)
    expect(a.text.split('\n\n')).toHaveLength(6);
    expect(a.text.split('\n\n').every((w) => w.startsWith('Once upon a time'))).toBe(true);
    expect(a.generated).toMatchObject({ language: 'en', prompt: 'Once upon a time', windows: 6, tokens: 24, keep: 0.8, temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, seed: 0, model: base.sha256 });
    // written again from the recorded settings alone: the same text
    const again = await engine.generateCalibration(base.id, { ...a.generated });
    expect(again.sha256).toBe(a.sha256);
    const other = await engine.generateCalibration(base.id, { ...req, seed: 1 });
    expect(other.sha256).not.toBe(a.sha256);
    // no filter: all 6 windows written are kept; the filtered six are the likelier of eight
    const all = await engine.generateCalibration(base.id, { ...req, windows: 8, keep: 1 });
    expect(all.written).toBe(8);
    expect(a.perplexity).toBeLessThanOrEqual(all.perplexity);
    const kept = new Set(a.text.split('\n\n'));
    expect(all.text.split('\n\n').filter((w) => kept.has(w))).toHaveLength(6);
  });

  it('BOS alone, and the gen: spelling', async () => {
    const g = await engine.generateCalibration(base.id, { ...req, prompt: null, windows: 2, keep: 1 });
    expect(g.text.length).toBeGreaterThan(20);
    expect(parseGenSource('gen:de')).toEqual({ language: 'de', prompt: 'Das ist' });
    expect(parseGenSource('gen:sw:bos')).toEqual({ language: 'sw', prompt: null });
    expect(parseGenSource('gen:de:Es war einmal')).toEqual({ language: 'de', prompt: 'Es war einmal' });
    expect(genSourceName({ language: 'de', prompt: 'Das ist' })).toBe('gen:de');
    expect(genSourceName({ language: 'de', prompt: 'Es war' })).toBe('gen:de:"Es war"');
    expect(() => parseGenSource('gen:xx')).toThrow(/no default words for 'xx'.*give a prompt \(gen:xx:<a few words>\) or gen:xx:bos/);
    expect(() => parseGenSource('gen:')).toThrow(/is not a generated source/);
  });

  it('refuses bad settings in one line', async () => {
    const gen = (o: Partial<GenerateCalibrationRequest>) => outcome(engine.generateCalibration(base.id, { ...req, ...o }));
    expect(await gen({ keep: 0 })).toMatch(/^BAD_ARGUMENT: Perplexity filter ratio 0 is out of range/);
    expect(await gen({ keep: 1.5 })).toMatch(/^BAD_ARGUMENT: Perplexity filter ratio 1.5 is out of range/);
    expect(await gen({ windows: 0 })).toMatch(/^BAD_ARGUMENT: Generated windows 0 is out of range/);
    expect(await gen({ tokens: 600 })).toMatch(/^BAD_ARGUMENT: Generated tokens per window 600 is out of range: give a whole number from 1 to 507 /);
    expect(await gen({ temperature: 0 })).toMatch(/^BAD_ARGUMENT: Generated calibration text needs sampling/);
    expect(await gen({ repetitionPenalty: 0.5 })).toMatch(/^BAD_ARGUMENT: Repetition penalty 0.5 is out of range/);
  });
});
