// What every signed-in page does first: make sure there is a user, show who, offer sign-out.
import { beginSignIn, currentToken, currentUser, signOut } from "./auth.js";

/** True when the page may go on; false when it is on its way to sign-in. */
export async function startSignedInPage() {
  if (!currentToken()) {
    await beginSignIn(location.pathname + location.search);
    return false;
  }
  const who = document.getElementById("signed-in-user");
  if (who) who.textContent = currentUser() ? `Signed in as ${currentUser()}` : "Signed in";
  document.getElementById("sign-out")?.addEventListener("click", () => signOut());
  return true;
}

/** Show a message in the page's alert region (role="alert", so screen readers announce it). */
export function showError(element, message) {
  element.textContent = message;
  element.hidden = false;
}

export function clearError(element) {
  element.textContent = "";
  element.hidden = true;
}
