/**
 * Secrets (API keys) must never reach logs, traces, errors or snapshots.
 * Every key the model registry reads is registered here, and every error
 * message is passed through `redactSecrets` before it leaves the process.
 * No `node:` imports: shared with the browser page.
 */
const secrets = new Set<string>();

/** Remember a secret value so it is masked wherever it might be echoed. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) secrets.add(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  // Bearer tokens and common key shapes echoed by upstream error bodies.
  return out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g, '$1[redacted]');
}
