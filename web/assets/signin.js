// @ts-check
// /training/signin?next=<path>: locally, a token for a chosen user from the stack's dev-only endpoint;
// deployed, the Cognito hosted UI, which sends the user back here with ?code=&state=.
import { loadConfig } from "./config.js";
import { beginSignIn, completeCognitoSignIn, safeNext, signInLocally } from "./auth.js";
import { showError } from "./page_shell.js";
import { $ } from "./dom.js";

const params = new URLSearchParams(location.search);
const next = safeNext(params.get("next"));

async function main() {
  const config = await loadConfig();
  if (config.auth.kind === "cognito") {
    if (params.has("error")) {
      showError($("page-error"), `Sign-in failed: ${params.get("error_description") ?? params.get("error")}`);
    } else if (params.has("code")) {
      $("signin-loading").hidden = false;
      location.replace(await completeCognitoSignIn(params));
      return;
    }
    $("hosted-signin").hidden = false;
    $("hosted-signin-button").addEventListener("click", () => beginSignIn(next));
    return;
  }
  const form = $("local-signin");
  form.hidden = false;
  $("user-name").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("local-signin-button").disabled = true;
    try {
      await signInLocally($("user-name").value.trim());
      location.replace(next);
    } catch (error) {
      showError($("page-error"), error.message);
      $("local-signin-button").disabled = false;
    }
  });
}

main().catch((error) => {
  $("signin-loading").hidden = true;
  showError($("page-error"), error.message);
});
