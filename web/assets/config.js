// @ts-check
// The deployment's settings (/config.json), read once per page: the API's address and how to sign in.

/**
 * How the page signs in: locally through the stack's dev-only token endpoint (tokenUrl), deployed
 * through the Cognito hosted UI (domain, clientId, scopes).
 * @typedef {{kind: "local" | "cognito", tokenUrl?: string, domain?: string, clientId?: string, scopes?: string}} AuthConfig
 * @typedef {{apiUrl: string, datasetsUrl: string, auth: AuthConfig}} PageConfig
 */

/** @type {Promise<PageConfig> | null} */
let configPromise = null;

/** @returns {Promise<PageConfig>} */
export function loadConfig() {
  configPromise ??= fetch("/config.json", { cache: "no-store" }).then((response) => {
    if (!response.ok) throw new Error(`Could not load the page settings (HTTP ${response.status}).`);
    return response.json();
  });
  return configPromise;
}
