import { useEffect } from 'react';
import { dropAnywhere, reportError } from '../../store/actions';
import { filesFromDrop } from '../../features/model/ModelPanel/dropFiles';

/**
 * Files dropped anywhere outside a drop zone never make the browser leave the page: the window
 * cancels every file drag, and a drop that no zone handled goes to `dropAnywhere` (a model folder
 * or model files load as a model, text files become calibration sources).
 */
export function useWindowDrop(): void {
  useEffect(() => {
    const hasFiles = (e: DragEvent): boolean => [...(e.dataTransfer?.types ?? [])].includes('Files');
    const onDragOver = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer && !e.defaultPrevented) e.dataTransfer.dropEffect = 'copy';
    };
    const onDrop = (e: DragEvent): void => {
      if (!hasFiles(e)) return;
      // A drop zone that handled the drop has called preventDefault already.
      const handled = e.defaultPrevented;
      e.preventDefault();
      if (handled || !e.dataTransfer) return;
      filesFromDrop(e.dataTransfer).then(
        (picked) => dropAnywhere(picked.files, picked.name === 'dropped files' ? undefined : picked.name),
        (err: unknown) => reportError('app', err),
      );
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDrop);
    };
  }, []);
}
