// Secrets a user may put where the hand-off reads them (a Hugging Face token in
// `pairforge.training.config`'s `trl` object, an `export HF_TOKEN=...` line in the setup) go to
// the host, which needs them, but never into the project's record of a run, a log or a printed
// plan. Values are recognised by their names. Pure.

/** Names whose values are secrets: ..._token, ..._secret, password, api_key (any case); not
 * counts such as `add_special_tokens` or `max_tokens`. */
const SECRET_NAME = /(^|_)(token|secret|password|passwd|api_?key|access_?key)$/i;

export const REDACTED = '<redacted>';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A JSON value with every secret-named member's value replaced, at any depth. */
export function redactValue<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, isSecretName(k) ? REDACTED : redactValue(v)])) as T;
  }
  return value;
}

/** Shell or JSON text with the values of secret-named assignments and members replaced:
 * `HF_TOKEN=abc`, `export API_KEY='x y'`, `"hub_token": "abc"`. */
export function redactText(text: string): string {
  return text
    .replace(/\b([A-Za-z_][A-Za-z0-9_]*)=('[^']*'|"[^"]*"|[^\s;&|]*)/g, (m, name: string) => (isSecretName(name) ? `${name}=${REDACTED}` : m))
    .replace(/"([^"\\]+)"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)/g, (m, name: string, colon: string) => (isSecretName(name) ? `"${name}"${colon}"${REDACTED}"` : m));
}
