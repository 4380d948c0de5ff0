import { describe, expect, it } from 'vitest';
import { createAppServices } from '../../../src-main/services/app-services';
import { tempDir } from '../../fixtures/temp-dir';

describe('experiments service (through dispatch)', () => {
  it('lists nothing in a fresh workspace and answers bad or unknown ids and unopened datasets with clear errors', async () => {
    const workspace = await tempDir();
    const services = createAppServices({ transport: 'http', workspace, allowedRoots: [], emit: () => {} });
    try {
      expect(await services.dispatch('experiments:list', {})).toEqual({ ok: true, value: [] });
      const traversal = await services.dispatch('experiments:get', { experimentId: '../runs' });
      expect(traversal.ok).toBe(false);
      expect(!traversal.ok && traversal.error.code).toBe('invalid-argument');
      const unknown = await services.dispatch('experiments:get', { experimentId: 'nothing-here' });
      expect(!unknown.ok && unknown.error.message).toMatch(/no experiment "nothing-here" in the workspace/);
      const notOpen = await services.dispatch('experiments:start', { datasetId: '/not/opened' });
      expect(!notOpen.ok && notOpen.error.message).toMatch(/dataset is not open/);
      const idle = await services.dispatch('experiments:cancel', { experimentId: 'nothing-here' });
      expect(!idle.ok && idle.error.message).toMatch(/is not running/);
    } finally {
      services.dispose();
    }
  });
});
