// @ts-check
// What every signed-in page does first: make sure there is a user, show who, offer sign-out, link the
// datasets page.
import { beginSignIn, currentToken, currentUser, signOut } from "./auth.js";
import { loadConfig } from "./config.js";

/**
 * True when the page may go on; false when it is on its way to sign-in.
 * @returns {Promise<boolean>}
 */
export async function startSignedInPage() {
  if (!currentToken()) {
    await beginSignIn(location.pathname + location.search);
    return false;
  }
  const who = document.getElementById("signed-in-user");
  if (who) who.textContent = currentUser() ? `Signed in as ${currentUser()}` : "Signed in";
  document.getElementById("sign-out")?.addEventListener("click", () => signOut());
  const datasets = document.getElementById("nav-datasets");
  if (datasets instanceof HTMLAnchorElement && !datasets.hasAttribute("aria-current")) {
    datasets.href = (await loadConfig()).datasetsUrl; // the deployment's datasets page
  }
  return true;
}

/**
 * Show a message in the page's alert region (role="alert", so screen readers announce it).
 * @param {HTMLElement} element
 * @param {string} message
 */
export function showError(element, message) {
  element.textContent = message;
  element.hidden = false;
}

/** @param {HTMLElement} element */
export function clearError(element) {
  element.textContent = "";
  element.hidden = true;
}
