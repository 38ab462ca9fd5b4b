import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTool } from '../../src/config/tools';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

describe('search attributes at worker start-up', () => {
  it('creates the missing incident search attributes on a server that has none, then finds them', async () => {
    // A dev server started without --search-attribute flags, like a persisted database from an older version.
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: resolveTool('temporal') },
        log: { format: 'pretty', level: 'error' },
      },
    });
    try {
      const before = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(before.customAttributes ?? {})).not.toContain('IncidentStatus');
      const created = await ensureSearchAttributes(env.connection, 'default');
      expect(created.sort()).toEqual(ALL_SEARCH_ATTRIBUTES.map((k) => k.name).sort());
      expect(await ensureSearchAttributes(env.connection, 'default')).toEqual([]);
    } finally {
      await env.teardown();
    }
  });
});
