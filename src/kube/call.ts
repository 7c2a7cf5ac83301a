import * as k8s from '@kubernetes/client-node';
import { AbortedError } from '../errors.js';
import { throwIfAborted } from '../wait/poll.js';
import { describeFailure, statusCode } from './errors.js';
import { resourceLabel, type Permission } from './permissions.js';
import { withRetry, type RetryDeps } from './retry.js';

/** Options of one generated client-node call: its request carries the attempt's signal (request timeout and run abort). */
export type CallOptions = k8s.ConfigurationOptions<k8s.ObservableMiddleware>;

/** Per-request options binding a generated call to `signal`, on top of `base` (headers such as the patch type). */
function requestOptions(signal: AbortSignal, base?: CallOptions): CallOptions {
  const bind: k8s.ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(signal);
      return new k8s.Observable(Promise.resolve(context));
    },
    post: (response) => new k8s.Observable(Promise.resolve(response)),
  };
  return { ...base, middleware: [...(base?.middleware ?? []), bind], middlewareMergeStrategy: 'append' };
}

/**
 * The one call helper of the adapter: each attempt has a request timeout and stops at once on
 * the run's abort (AbortedError), transient failures are retried within the policy's window, and
 * a final failure becomes an ApiError naming the verb, resource and object (its `code` is the
 * HTTP status: callers branch on 404 and 409 through it). The request is named by its entry of
 * the permissions table, so every call the adapter makes is one the table (and the chart) knows.
 */
export async function kubeCall<T>(deps: RetryDeps, permission: Permission, object: string, run: (options: CallOptions) => Promise<T>): Promise<T> {
  const { verb } = permission;
  const resource = resourceLabel(permission);
  // The fence guards every attempt of a write; what it throws (a lost lock) is the run's to explain, not this call's failure.
  let fenced: { error: unknown } | undefined;
  const fence = deps.fence && !readVerbs.has(verb) ? guard(deps.fence, (error) => (fenced = { error })) : undefined;
  try {
    return await withRetry(`${verb} ${resource} ${object}`, (signal) => run(requestOptions(signal)), deps, fence);
  } catch (error) {
    if (fenced) throw fenced.error;
    if (error instanceof AbortedError) throw error;
    throwIfAborted(deps.signal);
    throw describeFailure(error, verb, resource, object);
  }
}

/** Verbs that change nothing: never fenced. */
const readVerbs = new Set(['get', 'list', 'watch']);

/** `fence`, noting what it throws before passing it on. */
function guard(fence: () => void, noted: (error: unknown) => void): () => void {
  return () => {
    try {
      fence();
    } catch (error) {
      noted(error);
      throw error;
    }
  };
}

/** Like kubeCall for a read, but 404 means "absent" (undefined). */
export async function kubeFind<T>(
  deps: RetryDeps,
  permission: Permission & { verb: 'get' },
  object: string,
  run: (options: CallOptions) => Promise<T>,
): Promise<T | undefined> {
  try {
    return await kubeCall(deps, permission, object, run);
  } catch (error) {
    if (statusCode(error) === 404) return undefined;
    throw error;
  }
}
