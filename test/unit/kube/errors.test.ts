import { AbortError, ApiException, FetchError } from '@kubernetes/client-node';
import { PreconditionError } from '../../../src/errors.js';
import {
  ApiError,
  describeFailure,
  failureStatus,
  isTransient,
  MissingApiError,
  RequestTimeoutError,
  statusCode,
  statusMessage,
} from '../../../src/kube/errors.js';

/** What client-node throws: the Kubernetes Status JSON as raw text in `body`. */
const apiException = (code: number, message: string, reason = 'Unknown'): ApiException<string> =>
  new ApiException(
    code,
    `HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ...`,
    JSON.stringify({ kind: 'Status', status: 'Failure', message, reason, code }),
    {},
  );

const withCode = (code: string): Error => Object.assign(new Error(`socket: ${code}`), { code });

describe('isTransient', () => {
  it.each<[string, unknown, boolean]>([
    ['429 Too Many Requests', apiException(429, 'throttled'), true],
    ['500', apiException(500, 'etcd'), true],
    ['503', apiException(503, 'unavailable'), true],
    ['504', apiException(504, 'gateway'), true],
    ['400', apiException(400, 'bad'), false],
    ['401', apiException(401, 'who'), false],
    ['403', apiException(403, 'forbidden'), false],
    ['404', apiException(404, 'not found'), false],
    ['409 Conflict', apiException(409, 'conflict'), false],
    ['422', apiException(422, 'invalid'), false],
    ['ECONNRESET', withCode('ECONNRESET'), true],
    ['ECONNREFUSED', withCode('ECONNREFUSED'), true],
    ['ETIMEDOUT', withCode('ETIMEDOUT'), true],
    ['EACCES', withCode('EACCES'), false],
    ['node-fetch FetchError', new FetchError('request to https://k8s failed', 'system'), true],
    ['an errno only', Object.assign(new Error('x'), { errno: 'EPIPE' }), true],
    ['a reset as the cause of a wrapper', new Error('fetch failed', { cause: withCode('ECONNRESET') }), true],
    ['a 403 as the cause of a wrapper', new Error('wrapped', { cause: apiException(403, 'no') }), false],
    ['a request without an answer in time', new RequestTimeoutError('no answer within 30s'), true],
    ['an aborted request (the run stops)', new AbortError('The operation was aborted.'), false],
    ['a plain Error', new Error('boom'), false],
    ['a string', 'ECONNRESET', false],
    ['undefined', undefined, false],
  ])('%s -> %s', (_name, error, expected) => {
    expect(isTransient(error)).toBe(expected);
  });
});

describe('statusCode and statusMessage', () => {
  it('reads the HTTP code and the Status message of an ApiException', () => {
    const error = apiException(404, 'secrets "linkerd-previous-anchor" not found', 'NotFound');
    expect(statusCode(error)).toBe(404);
    expect(statusMessage(error)).toBe('secrets "linkerd-previous-anchor" not found');
  });

  it('falls back to the first line of the message when the body is not JSON', () => {
    const error = new ApiException(502, 'HTTP-Code: 502\nBody: <html>', '<html>bad gateway</html>', {});
    expect(statusMessage(error)).toBe('HTTP-Code: 502');
  });

  it('a transport error has no code', () => {
    expect(statusCode(withCode('ECONNRESET'))).toBeUndefined();
  });
});

describe('failureStatus', () => {
  it.each<[string, unknown, number | string]>([
    ['an HTTP status', apiException(503, 'unavailable'), 503],
    ['a socket error code', withCode('ECONNRESET'), 'ECONNRESET'],
    ['a watch that failed to open (HTTP status set by the adapter)', Object.assign(new Error('Gone'), { code: 410 }), 410],
    ['an error with neither', new FetchError('network timeout', 'request-timeout'), 'FetchError'],
    ['not an Error at all', 'boom', 'boom'],
  ])('%s', (_name, error, expected) => {
    expect(failureStatus(error)).toBe(expected);
  });
});

describe('describeFailure', () => {
  it('403 names the verb and the resource the rotator needs', () => {
    const error = describeFailure(
      apiException(403, 'deployments.apps "web" is forbidden: User "system:serviceaccount:linkerd:rotator" cannot patch resource "deployments"', 'Forbidden'),
      'patch',
      'deployments',
      'shop/web',
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(403);
    expect(error.action).toBe('patch deployments shop/web');
    expect(error.message).toBe(
      'patch deployments shop/web: forbidden: the rotator\'s identity needs "patch" on deployments (deployments.apps "web" is forbidden: User "system:serviceaccount:linkerd:rotator" cannot patch resource "deployments")',
    );
  });

  it.each<[string, unknown, number | undefined, string]>([
    ['401', apiException(401, 'Unauthorized'), 401, 'get secrets cert-manager/a: unauthorized: check the kubeconfig or ServiceAccount token'],
    ['404', apiException(404, 'secrets "a" not found'), 404, 'get secrets cert-manager/a: HTTP 404: secrets "a" not found'],
    ['a transport error', withCode('ECONNRESET'), undefined, 'get secrets cert-manager/a: socket: ECONNRESET'],
  ])('%s', (_name, raw, code, message) => {
    const error = describeFailure(raw, 'get', 'secrets', 'cert-manager/a');
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
  });
});

describe('MissingApiError', () => {
  it('is a PreconditionError, so a missing CRD refuses the run rather than failing it', () => {
    expect(new MissingApiError('Bundle CRD not installed')).toBeInstanceOf(PreconditionError);
  });
});
