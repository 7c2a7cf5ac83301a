import { PreconditionError } from '../errors.js';

/** A Kubernetes API call that failed for good, with what it was doing. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: number | undefined,
    readonly action: string,
    reason: string,
  ) {
    super(`${action}: ${reason}`);
  }
}

/** A request got no answer within its deadline (a half-open connection, an apiserver that hangs); retried like a reset. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

/** The API server does not serve a resource type the rotator needs (CRD not installed). */
export class MissingApiError extends PreconditionError {}

interface StatusBody {
  message?: string;
  reason?: string;
}

/** HTTP status of a client-node error, or undefined for transport errors. */
export function statusCode(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

/** What a log says of a failure: its HTTP status, else its error code (ECONNRESET), else its name. */
export function failureStatus(error: unknown): number | string {
  const code = statusCode(error) ?? (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' || typeof code === 'string') return code;
  return error instanceof Error ? error.name : String(error);
}

/** The Status message the API server sent, without echoing request bodies. */
export function statusMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'body' in error) {
    const body = error.body;
    try {
      const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as StatusBody;
      if (parsed?.message) return parsed.message;
    } catch {
      // not JSON: fall through to the error's own message
    }
  }
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
}

const transientCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

/** True for failures worth another try: throttling, server errors, dropped connections, timeouts. */
export function isTransient(error: unknown): boolean {
  const code = statusCode(error);
  if (code !== undefined) return code === 429 || code >= 500;
  if (typeof error === 'object' && error !== null) {
    const errno = (error as { code?: unknown; errno?: unknown }).code ?? (error as { errno?: unknown }).errno;
    if (typeof errno === 'string' && transientCodes.has(errno)) return true;
    const name = (error as { name?: unknown }).name;
    if (name === 'FetchError' || name === 'TimeoutError' || name === 'RequestTimeoutError') return true;
    const cause = (error as { cause?: unknown }).cause;
    if (cause !== undefined && cause !== error) return isTransient(cause);
  }
  return false;
}

/** Turns a final API failure into an error naming the object and, for 403, the permission. */
export function describeFailure(error: unknown, verb: string, resource: string, object: string): ApiError {
  const code = statusCode(error);
  const action = `${verb} ${resource} ${object}`;
  if (code === 403) {
    return new ApiError(code, action, `forbidden: the rotator's identity needs "${verb}" on ${resource} (${statusMessage(error)})`);
  }
  if (code === 401) return new ApiError(code, action, 'unauthorized: check the kubeconfig or ServiceAccount token');
  return new ApiError(code, action, code === undefined ? statusMessage(error) : `HTTP ${code}: ${statusMessage(error)}`);
}
