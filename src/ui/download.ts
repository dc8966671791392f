/** Saving a file the page made (a Blob) through the browser's download. */

/** `<name>.zip` with the characters file systems refuse replaced by '_'. */
export function zipFileName(modelName: string): string {
  const base = modelName.replace(/[\\/:*?"<>|\p{Cc}]+/gu, '_').trim() || 'model';
  return `${base}.zip`;
}

export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started by now; keep the URL a while for browsers that read it lazily.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
