/** Longest line a follower waits for; a longer one is dropped as 'parse' (defends memory against newline-free input). */
export const MAX_LINE_BYTES = 1 << 20;

/** Calls fn for each line of text ('\n' separated, a trailing '\r' removed, empty lines skipped). */
export function forEachLine(text: string, fn: (line: string, index: number) => void): void {
  let start = 0;
  let index = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    let stop = end;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > start) fn(text.slice(start, stop), index);
    index++;
    start = end + 1;
  }
}
