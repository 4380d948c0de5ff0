import type { LabelPatch } from './label-tools';

/**
 * Undo/redo of one slice's label map within a session: a list of patches and a cursor. Unlimited in
 * count; each step keeps only the pixels it changed, so memory grows with what was painted.
 */
export class LabelHistory {
  private readonly steps: LabelPatch[] = [];
  private cursor = 0;

  /** Records a change already applied to the labels; forgets anything that had been undone. */
  push(patch: LabelPatch | null): void {
    if (!patch) return;
    this.steps.length = this.cursor;
    this.steps.push(patch);
    this.cursor++;
  }

  get canUndo(): boolean {
    return this.cursor > 0;
  }

  get canRedo(): boolean {
    return this.cursor < this.steps.length;
  }

  /** Puts back the pixels of the last step; false when there is nothing to undo. */
  undo(labels: Uint8Array): boolean {
    if (!this.canUndo) return false;
    const step = this.steps[--this.cursor]!;
    step.indices.forEach((i, k) => (labels[i] = step.before[k]!));
    return true;
  }

  /** Re-applies the step last undone; false when there is nothing to redo. */
  redo(labels: Uint8Array): boolean {
    if (!this.canRedo) return false;
    const step = this.steps[this.cursor++]!;
    step.indices.forEach((i, k) => (labels[i] = step.after[k]!));
    return true;
  }
}
