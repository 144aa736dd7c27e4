// vLLM's error responses, as its OpenAI-compatible server sends them (docs/published.md "vLLM's OpenAI-compatible server"):
//   - body `{"error": {"message", "type", "param", "code"}}` with `code` the HTTP status;
//   - `type` "BadRequestError" (400) for errors found while serving a request (unknown `suffix`,
//     context length, sampling values), "NotFoundError" (404) for an unknown model,
//     "InternalServerError" (500) for engine errors;
//   - request-body validation errors (wrong JSON types, malformed JSON) carry the HTTP phrase as
//     `type` ("Bad Request"), as FastAPI's validation handler in vLLM does; unknown routes
//     "Not Found" (404), wrong methods "Method Not Allowed" (405);
//   - with `--api-key`, a missing or wrong bearer token on a `/v1` path gets 401 and the flat
//     body `{"error": "Unauthorized"}` (vLLM's authentication middleware), other paths stay open.

export interface ErrorInfo {
  message: string;
  type: string;
  param: string | null;
  code: number;
}

/** An error a handler throws; the server turns it into vLLM's response. */
export class VllmError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  body(): { error: ErrorInfo } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

/** 400 raised while serving (vLLM's create_error_response default). */
export const badRequest = (message: string, param: string | null = null) => new VllmError(400, message, 'BadRequestError', param);

/** 400 from request validation (pydantic / FastAPI in vLLM). */
export const invalidRequest = (message: string, param: string | null = null) => new VllmError(400, message, 'Bad Request', param);

export const modelNotFound = (model: string) => new VllmError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model');

export const routeNotFound = () => new VllmError(404, 'Not Found', 'Not Found');

export const methodNotAllowed = () => new VllmError(405, 'Method Not Allowed', 'Method Not Allowed');

export const internalError = (message = 'Internal server error') => new VllmError(500, message, 'InternalServerError');

export const UNAUTHORIZED_BODY = { error: 'Unauthorized' } as const;

/** The context-length message of vLLM's completion endpoint (clients match
 * `maximum context length is (\d+)`). `maxTokens` null: the prompt alone is too long. */
export function contextLengthError(maxModelLen: number, promptTokens: number, maxTokens: number | null): VllmError {
  if (maxTokens === null) {
    return badRequest(
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens} tokens in the messages, ` +
        'Please reduce the length of the messages.',
      'input_tokens',
    );
  }
  return badRequest(
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + maxTokens} tokens ` +
      `(${promptTokens} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
    'max_tokens',
  );
}
