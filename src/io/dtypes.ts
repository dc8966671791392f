/**
 * safetensors element types: sizes, the order the Rust `safetensors` crate writes them in, and CPU
 * conversions of raw little-endian bytes to Float32Array / Int32Array.
 *
 * The GPU path uploads raw bytes and converts there; these CPU conversions serve tests, small tensors
 * (norm weights, token ids) and the CPU reference forward.
 */
import { PolyPruneError } from '../common/errors';

/** Every dtype the safetensors format defines (as of safetensors 0.4). */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/**
 * Dtypes in the declaration order of the Rust crate's `Dtype` enum. The crate writes tensors sorted by
 * this order descending (widest alignment first), then by name, so every tensor starts at an offset
 * aligned to its element size. The writer below reproduces that order byte for byte.
 */
const DTYPE_ORDER: readonly SafetensorsDtype[] = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
];

const DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

export const SAFETENSORS_DTYPES: readonly SafetensorsDtype[] = DTYPE_ORDER;

export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

/** Bytes per element. */
export function dtypeSize(dtype: SafetensorsDtype): number {
  return DTYPE_SIZE[dtype];
}

/** Position in the Rust crate's `Dtype` enum (higher = written first). */
export function dtypeRank(dtype: SafetensorsDtype): number {
  return DTYPE_ORDER.indexOf(dtype);
}

/** Product of a shape; 1 for a scalar (empty shape). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

const F16_EXP_TABLE = (() => {
  // 2^(e-15) for the 31 finite exponents, exact in float64.
  const t = new Float64Array(32);
  for (let e = 0; e < 32; e++) t[e] = 2 ** (e - 15);
  return t;
})();

/** IEEE half (as its 16 bits) to a JS number; exact. */
export function f16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * F16_EXP_TABLE[exp];
}

/**
 * Buffer and byte offset at which `bytes` can be viewed as elements of `elemSize` bytes: the same
 * memory when it is aligned, else an aligned copy.
 */
function aligned(bytes: Uint8Array, elemSize: number): [ArrayBuffer, number] {
  if (bytes.byteOffset % elemSize === 0 && bytes.buffer instanceof ArrayBuffer) return [bytes.buffer, bytes.byteOffset];
  return [bytes.slice().buffer, 0];
}

/** Number of `dtype` elements in `bytes`; throws when the length is not a whole number of them. */
function elementCount(bytes: Uint8Array, dtype: SafetensorsDtype, what: string): number {
  const size = dtypeSize(dtype);
  if (bytes.byteLength % size !== 0) {
    throw new PolyPruneError('BAD_ARGUMENT', `${what}: ${bytes.byteLength} bytes is not a whole number of ${dtype} elements (${size} bytes each).`);
  }
  return bytes.byteLength / size;
}

/**
 * Converts raw little-endian tensor bytes to float32. Exact for F32, F16, BF16 and small integers;
 * F64 and large integers are rounded to the nearest float32. F8 dtypes are not supported.
 */
export function bytesToF32(bytes: Uint8Array, dtype: SafetensorsDtype, what: string): Float32Array<ArrayBuffer> {
  const n = elementCount(bytes, dtype, what);
  switch (dtype) {
    case 'F32':
      return new Float32Array(...aligned(bytes, 4), n);
    case 'F16': {
      const src = new Uint16Array(...aligned(bytes, 2), n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16BitsToNumber(src[i]);
      return out;
    }
    case 'BF16': {
      const src = new Uint16Array(...aligned(bytes, 2), n);
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = src[i] << 16;
      return out;
    }
    case 'F64':
      return Float32Array.from(new Float64Array(...aligned(bytes, 8), n));
    case 'I32':
      return Float32Array.from(new Int32Array(...aligned(bytes, 4), n));
    case 'U32':
      return Float32Array.from(new Uint32Array(...aligned(bytes, 4), n));
    case 'I16':
      return Float32Array.from(new Int16Array(...aligned(bytes, 2), n));
    case 'U16':
      return Float32Array.from(new Uint16Array(...aligned(bytes, 2), n));
    case 'I8':
      return Float32Array.from(new Int8Array(...aligned(bytes, 1), n));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(bytes);
    case 'I64': {
      const src = new BigInt64Array(...aligned(bytes, 8), n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'U64': {
      const src = new BigUint64Array(...aligned(bytes, 8), n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(src[i]);
      return out;
    }
    case 'F8_E4M3':
    case 'F8_E5M2':
      throw new PolyPruneError(
        'UNSUPPORTED_MODEL',
        `${what} is stored as ${dtype}; FP8 checkpoints are not supported. Use an F32, F16 or BF16 checkpoint.`,
      );
  }
}

/**
 * Converts raw little-endian integer tensor bytes to int32. I64/U32/U64 values outside the int32
 * range throw (token ids never are); float dtypes are refused.
 */
export function bytesToI32(bytes: Uint8Array, dtype: SafetensorsDtype, what: string): Int32Array<ArrayBuffer> {
  const n = elementCount(bytes, dtype, what);
  const checked = (values: ArrayLike<number | bigint>): Int32Array<ArrayBuffer> => {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const num = typeof v === 'bigint' ? Number(v) : v;
      if (!(num >= -2147483648 && num <= 2147483647)) {
        throw new PolyPruneError(
          'BAD_ARGUMENT',
          `${what} (${dtype}) element ${i} = ${String(v)} does not fit in int32.`,
        );
      }
      out[i] = num;
    }
    return out;
  };
  switch (dtype) {
    case 'I32':
      return new Int32Array(...aligned(bytes, 4), n);
    case 'U32':
      return checked(new Uint32Array(...aligned(bytes, 4), n));
    case 'I64':
      return checked(new BigInt64Array(...aligned(bytes, 8), n));
    case 'U64':
      return checked(new BigUint64Array(...aligned(bytes, 8), n));
    case 'I16':
      return Int32Array.from(new Int16Array(...aligned(bytes, 2), n));
    case 'U16':
      return Int32Array.from(new Uint16Array(...aligned(bytes, 2), n));
    case 'I8':
      return Int32Array.from(new Int8Array(...aligned(bytes, 1), n));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(bytes);
    default:
      throw new PolyPruneError(
        'BAD_ARGUMENT',
        `${what} is ${dtype}, not an integer tensor (token ids must be stored as I32 or I64).`,
      );
  }
}

// f32 -> 16-bit floats, round to nearest even (torch `.to(dtype)`; shaders/util/pack16.wgsl does the same on the GPU)

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** bfloat16 bits of x (round to nearest even; NaN stays a quiet NaN). */
export function f32ToBf16Bits(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0];
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** IEEE half bits of x (round to nearest even, overflow to infinity, subnormals exact). */
export function f32ToF16Bits(x: number): number {
  f32buf[0] = x;
  const u = u32buf[0];
  const sign = (u >>> 16) & 0x8000;
  const e = (u >>> 23) & 0xff;
  let m = u & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 | (m >>> 13) : 0);
  const exp = e - 127 + 15;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    m |= 0x800000;
    const shift = 14 - exp;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}


/**
 * How the GPU keeps a weight matrix of this dtype: 16-bit floats stay packed two per word ('f16',
 * 'bf16'); F32 and F64 (rounded once) as 'f32'. Null for dtypes that are no float weights.
 */
export function gpuWeightFormat(dtype: SafetensorsDtype): 'f32' | 'f16' | 'bf16' | null {
  switch (dtype) {
    case 'F32':
    case 'F64':
      return 'f32';
    case 'F16':
      return 'f16';
    case 'BF16':
      return 'bf16';
    default:
      return null;
  }
}

/** 16-bit values (as their bits) packed two per little-endian u32 word, as the GPU keeps them. */
export function encode16(values: Float32Array, format: 'f16' | 'bf16'): Uint16Array<ArrayBuffer> {
  const out = new Uint16Array(values.length + (values.length % 2));
  const f = format === 'bf16' ? f32ToBf16Bits : f32ToF16Bits;
  for (let i = 0; i < values.length; i++) out[i] = f(values[i]);
  return out;
}
