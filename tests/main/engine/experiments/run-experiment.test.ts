import { describe, expect, it } from 'vitest';
import { workersPerCell } from '../../../../src-main/engine/experiments/run-experiment';

// The grid itself runs end to end in tests/main/cli/experiment-command.test.ts (real child processes).
describe('workersPerCell', () => {
  it('shares the cores so that cells x workers never exceeds them', () => {
    expect(workersPerCell(1, 2)).toBe(2);
    expect(workersPerCell(2, 2)).toBe(1);
    expect(workersPerCell(2, 8)).toBe(2);
    expect(workersPerCell(3, 4)).toBe(1);
    expect(() => workersPerCell(3, 2)).toThrow(/more than the 2 core/);
    expect(() => workersPerCell(0, 2)).toThrow(/--parallel/);
  });
});
