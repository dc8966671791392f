import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { PolyPruneError } from '../../src/common/errors';
import { base64UrlToBytes, bytesToBase64Url, decodeShareLink, encodeShareFragment, shareLink, sharePayload, SHARE_MAX_CHARS } from '../../src/experiment/share';

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
    expect(e.message).toMatch(/16\.0 KB/);
    const huge = `http://h/#${encodeShareFragment({ kind: 't', n: 1, s })}`;
    expect(huge.length).toBeGreaterThan(SHARE_MAX_CHARS);
    expect(code(() => decodeShareLink(huge, parse)).code).toBe('SHARE_TOO_LARGE');
  });
});
