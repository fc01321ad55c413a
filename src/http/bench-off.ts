/**
 * For `npm run bench` only: `BENCH_OFF=<piece>,…` leaves pieces of the app's HTTP stack out, so
 * the bench can measure what each costs an open request (bench/run.ts, "What every request
 * pays"). Pieces: `observer` (request id, metrics and request log: the whole hook), `metrics`
 * (the duration histogram only), `helmet`, `json` (the JSON-only and JSON-safety checks; the
 * parser stays), `cookies` (the cookie parser), `throttle` (the global rate-limit guard).
 * Unset in every real deployment: nothing is left out. Read here, and only here.
 */
export type BenchPiece = 'observer' | 'metrics' | 'helmet' | 'json' | 'cookies' | 'throttle';

export function benchOff(piece: BenchPiece): boolean {
  return (process.env.BENCH_OFF ?? '').split(',').some((p) => p.trim() === piece);
}
