/**
 * Scorer calls sized by time, not only by tokens. One call is one GPU submission that cannot be
 * interrupted: on a CPU adapter (lavapipe, SwiftShader) a call of 4096 tokens can take minutes, so
 * Cancel waited that long and the counters stood still. A Pacer measures each call's rate and sizes
 * the next one to take about `targetMs` (never more than the caller's token cap), so the loops that
 * check the abort signal and report progress between calls do so every second or two on any adapter;
 * on a fast GPU the calls reach the cap at once. The engine keeps one Pacer per model for scoring
 * (src/engine/perplexity.ts) and one for pruning's calibration passes (src/engine/prune.ts,
 * src/prune/pass.ts), so a new cell or prune starts at the rate the last one measured.
 */
export class Pacer {
  private next: number;
  /** Tokens per millisecond of the last call (null before the first). */
  rate: number | null = null;

  constructor(
    /** Target time of one scorer call. */
    readonly targetMs = 1000,
    /** The first call's tokens, before any rate is known. */
    startTokens = 256,
  ) {
    this.next = Math.max(1, Math.floor(startTokens));
  }

  /** Tokens for the next call, at most `cap` (the caller's usual batch) and at least 1. */
  tokens(cap: number): number {
    return Math.max(1, Math.min(Math.floor(cap), this.next));
  }

  /** A call of `tokens` took `ms`: size the next one to take about targetMs (growing at most 4x a call). */
  took(tokens: number, ms: number): void {
    if (!(tokens > 0)) return;
    const rate = tokens / Math.max(ms, 1);
    this.rate = rate;
    this.next = Math.max(1, Math.min(Math.floor(rate * this.targetMs), 4 * Math.max(tokens, this.next)));
  }
}
