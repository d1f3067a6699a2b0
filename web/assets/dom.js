// @ts-check
// The one way the pages find their elements.

/**
 * The element with this id. Every id a page asks for is in its own HTML: a missing one is a bug in
 * the page, reported here by name rather than as "cannot read properties of null" somewhere later.
 * @param {string} id
 * @returns {any} the element (typed loosely: the pages know which kind each id is)
 */
export function $(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`The page has no element #${id}`);
  return element;
}
