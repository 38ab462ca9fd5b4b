import { printProblems } from '../../../src/config/format-problems';

describe('printProblems', () => {
  it('prints one file:path: message line per problem, files sorted, each file in its given order', () => {
    const text = printProblems([
      { file: 'config/runbooks/b.yaml', path: 'steps.1.id', message: 'second in b' },
      { file: 'config/routing.yaml', path: '', message: 'file not found' },
      { file: 'config/runbooks/b.yaml', path: 'name', message: 'third in b' },
      { file: 'config/runbooks/a.yaml', path: 'title', message: 'only in a' },
    ]);
    expect(text).toBe(
      [
        'config/routing.yaml: file not found',
        'config/runbooks/a.yaml:title: only in a',
        'config/runbooks/b.yaml:steps.1.id: second in b',
        'config/runbooks/b.yaml:name: third in b',
      ].join('\n'),
    );
  });

  it('prints nothing when there are no problems', () => {
    expect(printProblems([])).toBe('');
  });
});
