// @ts-check
// How figures are written on every page. Money arrives already rounded to cents by the API.
/** @param {number | string} value */
export const money = (value) => `$${Number(value).toFixed(2)}`;
/** @param {number | string} value */
export const hours = (value) => `${Number(value).toFixed(1)} hours`;
/** @param {number | string} value */
export const count = (value) => Number(value).toLocaleString("en-US");
/**
 * A moment in the user's own time zone, with the zone shown ("12/3/2026, 1:18:13 PM UTC").
 * @param {string | null | undefined} iso
 */
export const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { timeZoneName: "short" }) : "—");

/**
 * A slider value as the page shows and sends it: the control's own number of decimals.
 * @param {number | string} value
 * @param {number} decimals
 */
export const fixed = (value, decimals) => Number(Number(value).toFixed(decimals));

/**
 * "queued" -> "Queued", "balanced" -> "Balanced": statuses and preset ids as the page shows them.
 * @param {string} word
 */
export function capitalized(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
