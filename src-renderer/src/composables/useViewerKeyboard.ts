import { onBeforeUnmount, onMounted } from 'vue';
import { useViewerStore } from '../stores/viewer';

/** Slice browser keys: ←/→ previous/next slice, 1/2/3 toggle layers, +/− zoom, 0 reset. */
export function useViewerKeyboard(): void {
  const viewer = useViewerStore();
  const onKey = (event: KeyboardEvent) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.target instanceof HTMLTextAreaElement) return;
    const actions: Record<string, () => void> = {
      ArrowRight: () => viewer.step(1),
      ArrowLeft: () => viewer.step(-1),
      '1': () => viewer.toggle('truth'),
      '2': () => viewer.toggle('prediction'),
      '3': () => viewer.toggle('diff'),
      '+': () => viewer.zoomBy(1.25),
      '=': () => viewer.zoomBy(1.25),
      '-': () => viewer.zoomBy(0.8),
      '0': () => viewer.resetView(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  };
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
}
