/** Characters of an uploaded value an error message quotes at most. */
export const maxEchoedCharacters = 200;

/**
 * A value from an upload as an error message quotes it: whole when short, otherwise its first
 * `maxEchoedCharacters` characters, an ellipsis and its length. An upload may hold one line of many
 * megabytes, and every message quoting it (a problem's detail and errors, a stored row error) would
 * otherwise be as large.
 */
export function echoed(value: string): string {
  if (value.length <= maxEchoedCharacters) return value;
  const cut = value.slice(0, maxEchoedCharacters);
  // A cut between the halves of a surrogate pair would leave half a character, which is no text.
  const start = /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
  return `${start}… (${value.length} characters)`;
}
