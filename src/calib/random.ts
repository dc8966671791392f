/**
 * Python's `random` module, bit for bit, for the parts the calibration sampler needs: MT19937
 * (CPython `_randommodule.c`), `random.seed(int)` (init_by_array over the 32-bit words of |seed|),
 * `getrandbits(k)`, `randint(a, b)` / `randrange` via `_randbelow` (getrandbits rejection sampling),
 * and `random()`. So `sampleWindows` draws the same offsets as wanda's `get_wikitext2` / `get_c4`.
 */
import { PolyPruneError } from '../common/errors';

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class PyRandom {
  private mt = new Uint32Array(N);
  private mti = N + 1;

  /** Same state as Python's `random.seed(seed)` for an integer seed. */
  constructor(seed: number | bigint = 0) {
    this.seed(seed);
  }

  seed(seed: number | bigint): void {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new PolyPruneError('BAD_ARGUMENT', `The random seed must be an integer, got ${seed}.`);
    }
    let n = BigInt(seed);
    if (n < 0n) n = -n;
    const key: number[] = [];
    while (n > 0n) {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = N;
  }

  private initByArray(key: number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** One 32-bit output of MT19937 (genrand_uint32). */
  uint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `random.random()`: 53-bit float in [0, 1). */
  random(): number {
    const a = this.uint32() >>> 5;
    const b = this.uint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `random.getrandbits(k)` for 0 <= k <= 53 (32-bit words from least significant, last one shifted). */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 0 || k > 53) throw new PolyPruneError('INTERNAL', `getrandbits(${k}) is limited to 0..53 bits here`);
    if (k === 0) return 0;
    if (k <= 32) return this.uint32() >>> (32 - k);
    const lo = this.uint32();
    const hi = this.uint32() >>> (64 - k);
    return hi * 4294967296 + lo;
  }

  /** `random._randbelow(n)` (getrandbits rejection sampling); 0 <= result < n. */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new PolyPruneError('INTERNAL', `randbelow(${n})`);
    const k = bitLength(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.randint(a, b)`: a <= result <= b. */
  randint(a: number, b: number): number {
    if (b < a) throw new PolyPruneError('INTERNAL', `randint(${a}, ${b}): empty range`);
    return a + this.randbelow(b - a + 1);
  }
}

function bitLength(n: number): number {
  let k = 0;
  while (n >= 4294967296) {
    n = Math.floor(n / 4294967296);
    k += 32;
  }
  return k + (32 - Math.clz32(n));
}
