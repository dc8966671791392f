import { useState, type DragEvent } from 'react';

export interface DropZone {
  /** True while files are dragged over the zone (for its `dragging` class). */
  dragging: boolean;
  /** Spread on the zone's element. */
  handlers: {
    onDragOver(e: DragEvent): void;
    onDragLeave(): void;
    onDrop(e: DragEvent): void;
  };
}

/**
 * An element that takes dropped files: `onFiles` receives the drop's DataTransfer. The drop is
 * default-prevented and goes no further, so the window's drop-anywhere handler (App/useWindowDrop)
 * leaves it alone.
 */
export function useDropZone(onFiles: (data: DataTransfer) => void): DropZone {
  const [dragging, setDragging] = useState(false);
  return {
    dragging,
    handlers: {
      onDragOver: (e) => {
        e.preventDefault();
        setDragging(true);
      },
      onDragLeave: () => setDragging(false),
      onDrop: (e) => {
        e.preventDefault();
        e.stopPropagation();
        setDragging(false);
        onFiles(e.dataTransfer);
      },
    },
  };
}
