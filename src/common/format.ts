/** Number formatting shared by every layer (messages, the page, the CLI). */

/** Bytes in binary units: "512 B", "1.5 KiB", "12.3 MiB", "1.25 GiB". */
export function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
