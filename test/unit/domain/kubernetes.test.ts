import { labelSelectorString } from '../../../src/domain/kubernetes';

describe('labelSelectorString', () => {
  it.each([
    [{ matchLabels: { app: 'web' } }, 'app=web'],
    [{ matchLabels: { app: 'web', tier: 'workers' } }, 'app=web,tier=workers'],
    [
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'env', operator: 'In' as const, values: ['prod', 'staging'] },
          { key: 'canary', operator: 'NotIn' as const, values: ['true'] },
          { key: 'team', operator: 'Exists' as const },
          { key: 'legacy', operator: 'DoesNotExist' as const },
        ],
      },
      'app=web,env in (prod,staging),canary notin (true),team,!legacy',
    ],
    [{}, ''],
  ])('renders %j as %p', (selector, expected) => {
    expect(labelSelectorString(selector)).toBe(expected);
  });
});
