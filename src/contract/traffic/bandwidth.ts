/**
 * Average bits per second of `bytes` sent over `seconds`, rounded half-up to an integer
 * (traffic-api.md: bytes x 8 / slot seconds). Exact for any integer byte count: the division is
 * done in integers, in BigInt once the intermediate would leave the safe-integer range.
 */
export function bandwidthBps(bytes: number, seconds: number): number {
  if (!(bytes > 0) || !(seconds > 0)) return 0;
  const twice = bytes * 16 + seconds; // 2 x (bytes x 8) + seconds, over 2 x seconds: half-up
  if (Number.isSafeInteger(twice) && Number.isInteger(bytes)) return Math.floor(twice / (2 * seconds));
  const b = BigInt(Math.round(bytes));
  const s = BigInt(seconds);
  return Number((b * 16n + s) / (2n * s));
}
