import { describe, expect, it } from 'vitest';
import { KURZ2026, presetTasks } from '../../src/experiment/presets';
import { resolveTaskName } from '../../src/eval/lmEvalNames';

describe('the kurz2026 preset', () => {
  it("holds the study's design, each setting with a source", () => {
    expect(KURZ2026.models.value).toEqual(['meta-llama/Meta-Llama-3-8B-Instruct', 'CohereForAI/aya-23-8B']);
    expect(KURZ2026.languages.value).toEqual(['ar', 'de', 'en', 'es', 'ru', 'sw', 'zh']);
    expect([KURZ2026.nsamples.value, KURZ2026.seqlen.value, KURZ2026.seeds.value]).toEqual([128, 2048, [0, 42, 1234]]);
    for (const s of Object.values(KURZ2026)) if (typeof s === 'object') expect(s.source.length).toBeGreaterThan(20);
  });

  it('lists the lm-eval tasks that exist for its languages, each a valid lm-eval name', () => {
    const names = presetTasks(KURZ2026).map((t) => t.name);
    expect(names).toContain('xcopa_sw');
    expect(names).toContain('xwinograd_ru');
    expect(names).toContain('belebele_zho_Hans');
    expect(names).not.toContain('xcopa_de'); // XCOPA has no German
    expect(names).not.toContain('pawsx_ar'); // PAWS-X has no Arabic
    for (const n of names) expect(resolveTaskName(n).lmEvalLanguage).toBeTruthy();
    expect(presetTasks(KURZ2026)).toHaveLength(29);
  });
});
