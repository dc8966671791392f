/**
 * The GPU's work budget per submitted command buffer (src/gpu/device.ts, docs/models.md "Work per
 * submit"): its default and the parser of a user's value (engine option, CLI flag, page URL).
 */
import { PolyPruneError } from './errors';

/**
 * Default work per submit (command buffer), in flop-equivalents: what a 2 TFLOP/s integrated GPU does
 * in 0.5 s, well inside the operating system's GPU watchdog (about 2 s on Windows) that makes a
 * browser kill a page whose GPU work runs too long in one go. docs/models.md, "Work per submit".
 */
export const DEFAULT_SUBMIT_BUDGET = 1e12;

/** A submit budget from the user (engine option, `--gpu-submit-budget`, `?gpuSubmitBudget=`): a positive number of flops. */
export function parseSubmitBudget(v: unknown, what = 'GPU submit budget'): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new PolyPruneError(
      'BAD_ARGUMENT',
      `${what} must be a positive number of flops per submit (for example 1e12, the default: a 2 TFLOP/s GPU for 0.5 s); got '${String(v)}'.`,
    );
  }
  return n;
}
