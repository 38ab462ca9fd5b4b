import { ErrorType } from '../../../src/domain/errors';
import { classifyKubectlFailure, kubectlErrorLine } from '../../../src/domain/kubectl-failure';

describe('classifyKubectlFailure', () => {
  it.each([
    ['Error from server (NotFound): deployments.apps "web" not found\n', ErrorType.NotFound],
    ['error: unable to find specified revision 9 in history\n', ErrorType.NotFound],
    ['error: no rollout history found for deployment "web"\n', ErrorType.NotFound],
    [
      'Error from server (Forbidden): deployments.apps "web" is forbidden: User "ci" cannot patch resource "deployments"\n',
      ErrorType.NotAllowed,
    ],
    ['error: You must be logged in to the server (Unauthorized)\n', ErrorType.NotAllowed],
    ['error: timed out waiting for the condition\n', ErrorType.TimedOut],
    ['error: deployment "web" exceeded its progress deadline\n', ErrorType.OperationFailed],
    [
      "error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again\n",
      ErrorType.OperationFailed,
    ],
    ['error: Expected replicas to be 5, was 6\n', ErrorType.OperationFailed],
    [
      'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n',
      ErrorType.Unavailable,
    ],
    ['Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout\n', ErrorType.Unavailable],
    [
      'Error from server (InternalError): an error on the server ("") has prevented the request\n',
      ErrorType.Unavailable,
    ],
    [
      'Error from server (Conflict): Operation cannot be fulfilled on deployments.apps "web"\n',
      ErrorType.Unavailable,
    ],
    ['error: context was not found for specified context: prod\n', ErrorType.NotConfigured],
    ['error: no context exists with the name: "prod"\n', ErrorType.NotConfigured],
  ])('classifies %p as %s', (stderr, type) => {
    expect(classifyKubectlFailure(stderr).type).toBe(type);
  });

  it('reports the error line, not the klog noise before it', () => {
    const stderr = [
      'E1125 12:03:44.489308    8187 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group list"',
      'Error from server (NotFound): deployments.apps "web" not found',
      '',
    ].join('\n');
    expect(classifyKubectlFailure(stderr)).toEqual({
      type: ErrorType.NotFound,
      message: 'Error from server (NotFound): deployments.apps "web" not found',
    });
  });

  it('redacts credentials in URLs and bearer tokens', () => {
    expect(
      kubectlErrorLine(
        'Unable to connect to the server: https://admin:s3cret@k8s.example:6443 Bearer abc.def\n',
      ),
    ).toBe('Unable to connect to the server: https://***@k8s.example:6443 Bearer ***');
  });

  it('says so when kubectl printed nothing', () => {
    expect(classifyKubectlFailure('')).toEqual({
      type: ErrorType.OperationFailed,
      message: 'kubectl failed without an error message',
    });
  });
});
