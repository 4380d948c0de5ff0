import { onBeforeUnmount, onMounted } from 'vue';
import { useCompareStore } from '../stores/compare';
import { useViewerStore } from '../stores/viewer';

type Viewer = ReturnType<typeof useViewerStore>;

/** Every slice-browser shortcut: the key handler and the `?` overlay both read this list. */
export const SHORTCUTS: { keys: string[]; label: string; run: (viewer: Viewer) => void }[] = [
  { keys: ['ArrowRight', 'ArrowDown'], label: 'next slice', run: (v) => v.step(1) },
  { keys: ['ArrowLeft', 'ArrowUp'], label: 'previous slice', run: (v) => v.step(-1) },
  { keys: ['PageDown'], label: '10 slices on', run: (v) => v.goTo(v.index + 10) },
  { keys: ['PageUp'], label: '10 slices back', run: (v) => v.goTo(v.index - 10) },
  { keys: ['Home'], label: 'first slice', run: (v) => v.goTo(0) },
  { keys: ['End'], label: 'last slice', run: (v) => v.goTo(v.ordered.length - 1) },
  { keys: ['1'], label: 'ground truth on/off', run: (v) => v.toggle('truth') },
  { keys: ['2'], label: 'prediction on/off', run: (v) => v.toggle('prediction') },
  { keys: ['3'], label: 'diff on/off', run: (v) => v.toggle('diff') },
  { keys: ['4'], label: 'computed lung mask on/off', run: (v) => (v.showLung = !v.showLung) },
  { keys: ['+', '='], label: 'zoom in', run: (v) => v.zoomBy(1.25) },
  { keys: ['-'], label: 'zoom out', run: (v) => v.zoomBy(0.8) },
  { keys: ['0'], label: 'fit to the window', run: (v) => v.resetView() },
  { keys: ['r'], label: 'rotate 90° clockwise (remembered for the dataset)', run: (v) => void v.rotate() },
  { keys: ['h'], label: 'flip left/right', run: (v) => void v.flip('flipH') },
  { keys: ['v'], label: 'flip top/bottom', run: (v) => void v.flip('flipV') },
  { keys: ['c'], label: 'compare: two panes side by side (truth or a run each) on/off', run: () => useCompareStore().toggle() },
  { keys: ['?'], label: 'this list', run: (v) => (v.showHelp = !v.showHelp) },
  { keys: ['Escape'], label: 'close this list', run: (v) => (v.showHelp = false) },
];

/** Mouse gestures, listed in the `?` overlay beside the keys. */
export const GESTURES: { gesture: string; label: string }[] = [
  { gesture: 'wheel', label: 'next / previous slice' },
  { gesture: 'Ctrl + wheel', label: 'zoom at the cursor' },
  { gesture: 'left drag', label: 'pan' },
  { gesture: 'right drag', label: 'window/level: left-right width, up-down level' },
];

const TEXT_INPUTS = new Set(['text', 'number', 'search', 'email', 'password', 'url', 'tel']);

/** True when typing goes into this element, so slice keys must leave it alone. */
export function isTextField(target: EventTarget | null): boolean {
  if (target instanceof HTMLTextAreaElement) return true;
  if (target instanceof HTMLInputElement) return TEXT_INPUTS.has(target.type);
  return target instanceof HTMLElement && target.isContentEditable;
}

/**
 * Slice browser keys, wherever focus is except in a text field: a slider, a checkbox or a select
 * that was clicked last must not swallow the arrows (the handler runs in the capture phase and
 * stops the control's own reaction to the keys it uses).
 */
export function useViewerKeyboard(): void {
  const viewer = useViewerStore();
  const onKey = (event: KeyboardEvent) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isTextField(event.target)) return;
    const shortcut = SHORTCUTS.find((s) => s.keys.includes(event.key));
    if (!shortcut) return;
    event.preventDefault();
    event.stopPropagation();
    shortcut.run(viewer);
  };
  onMounted(() => window.addEventListener('keydown', onKey, { capture: true }));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey, { capture: true }));
}
