import { describeSlowTask, percentile, slowestAgainstP95 } from '../../../src/domain/task-durations';

describe('percentile', () => {
  it.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95, 10],
    [[10, 20, 30], 0.5, 20],
    [[42], 0.95, 42],
  ])('%j at %s is %s (nearest rank)', (values, q, expected) => {
    expect(percentile(values, q)).toBe(expected);
  });
});

describe('slowestAgainstP95', () => {
  // The seed's L3 dashboard: extract 15m (P95 22m), transform 45m (P95 60m), load 8m (P95 10m).
  const history = {
    extract: [14, 15, 15, 16, 22].map((m) => m * 60),
    transform: [40, 44, 45, 46, 60].map((m) => m * 60),
    load: [7, 8, 8, 9, 10].map((m) => m * 60),
    brand_new: [60],
  };

  it('ranks the bottleneck first by how far it ran over its own P95', () => {
    const ranked = slowestAgainstP95(
      [
        { taskId: 'extract', seconds: 16 * 60 },
        { taskId: 'transform', seconds: 83 * 60 },
        { taskId: 'load', seconds: 11 * 60 },
        { taskId: 'brand_new', seconds: 3600 },
      ],
      history,
    );
    expect(ranked.map((t) => t.taskId)).toEqual(['transform', 'load', 'extract']);
    expect(ranked[0]).toMatchObject({ p95Seconds: 3600, meanSeconds: 2820, samples: 5 });
    expect(describeSlowTask(ranked[0]!)).toBe(
      'transform ran 83m, 38% over its P95 of 60m (mean 47m over 5 runs)',
    );
  });

  it('says "under" for a task faster than its P95', () => {
    const [t] = slowestAgainstP95([{ taskId: 'load', seconds: 5 * 60 }], history);
    expect(describeSlowTask(t!)).toBe('load ran 5m, 50% under its P95 of 10m (mean 8m over 5 runs)');
  });
});
