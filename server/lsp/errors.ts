// How features answer with errors: JSON-RPC codes the client tells apart, and one wrapper that
// turns a plain error into a response carrying the error's own message.
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { ProjectBusyError, ProjectUnavailableError } from '../store/host';

/** Server-error code: the project store is not available (bad or missing path, wrong runtime). */
export const PROJECT_UNAVAILABLE = -32001;
/** Server-error code: refused because the workspace is not trusted. */
export const UNTRUSTED = -32002;

/** Errors whose message is the user's to act on, sent as "invalid params" (e.g. a bad dataset). */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

export function invalidParams(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

export function invalidRequest(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidRequest, message);
}

/** An abort through the client's cancel, as LSP's "request cancelled". */
export function cancelled(what: string): ResponseError<void> {
  return new ResponseError(LSPErrorCodes.RequestCancelled, `${what}: cancelled`);
}

/** Runs a request body; errors that are not ResponseErrors become one with `what: message`. */
export async function guarded<T>(what: string, body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    throw asResponseError(what, e);
  }
}

export function asResponseError(what: string, e: unknown): ResponseError<void> {
  if (e instanceof ResponseError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof ProjectUnavailableError) return new ResponseError(PROJECT_UNAVAILABLE, message);
  if (e instanceof ProjectBusyError) return invalidRequest(message);
  if (e instanceof InvalidInputError) return invalidParams(`${what}: ${message}`);
  return new ResponseError(ErrorCodes.InternalError, `${what}: ${message}`);
}
