import { describe, expect, it } from 'vitest';
import { gridStepLabel } from './index';
import { zipFileName } from '../../download';

describe('gridStepLabel', () => {
  it("follows runGrid's order: dense columns, then per calibration language a prune and its columns", () => {
    const calib = ['de', 'en'];
    const evl = ['de', 'en', 'fr'];
    const total = (calib.length + 1) * evl.length + calib.length;
    const labels = Array.from({ length: total }, (_, i) => gridStepLabel(calib, evl, i));
    expect(labels).toEqual([
      'dense model: perplexity de',
      'dense model: perplexity en',
      'dense model: perplexity fr',
      'pruning with de calibration',
      'de-calibrated model: perplexity de',
      'de-calibrated model: perplexity en',
      'de-calibrated model: perplexity fr',
      'pruning with en calibration',
      'en-calibrated model: perplexity de',
      'en-calibrated model: perplexity en',
      'en-calibrated model: perplexity fr',
    ]);
    expect(gridStepLabel(calib, evl, total)).toBe('finishing');
  });
});

describe('zipFileName', () => {
  it('keeps ordinary model names and replaces characters file systems refuse', () => {
    expect(zipFileName('polyprune-ml-wanda-0.5-de+en')).toBe('polyprune-ml-wanda-0.5-de+en.zip');
    expect(zipFileName('a/b:c*?"<>|\n')).toBe('a_b_c_.zip');
    expect(zipFileName('  ')).toBe('model.zip');
  });
});
