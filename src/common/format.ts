/** Number formatting shared by every layer (messages, the page, the CLI). */

const UNITS = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30 } as const;

/**
 * Bytes in binary units: "512 B", "1.5 KiB", "12.3 MiB", "1.25 GiB". With `unit`, always in that
 * unit with `digits` decimals (default 1): fmtBytes(3 << 20, { unit: 'MiB', digits: 2 }) = "3.00 MiB".
 */
export function fmtBytes(n: number, fixed?: { unit: keyof typeof UNITS; digits?: number }): string {
  if (fixed) return `${(n / UNITS[fixed.unit]).toFixed(fixed.digits ?? 1)} ${fixed.unit}`;
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
