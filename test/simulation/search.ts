import fc from 'fast-check';
import { diagnose, Report, runSettings, Schedule, ScheduleShape, schedules, simulate } from './schedule.js';

/**
 * `strict`: no acceptance after an acknowledged end, ever. `bounded`: none outside the bounds
 * README documents (`invariant.ts`) — what the protocol promises. `settled`: none once the
 * cluster has been fault-free for `SETTLE_MS` (what the old design kept; the searches with
 * reconciliation off use it). Each also fails on an error (a token validated as another
 * session; a live token refused once settled).
 */
export type Invariant = 'strict' | 'bounded' | 'settled';

export function breaches(report: Report, invariant: Invariant): Report['violations'] {
  return report.violations.filter((v) => invariant === 'strict' || (invariant === 'bounded' ? v.bound === undefined : v.kind === 'settled'));
}

export function holds(report: Report, invariant: Invariant): boolean {
  return report.errors.length === 0 && breaches(report, invariant).length === 0;
}

export interface Outcome {
  failed: boolean;
  /** Runs until the first counterexample (all of them when none). */
  runs: number;
  ms: number;
  seed: number;
  /** Shrunk, with its report, when one was found. */
  counterexample?: Schedule;
  report?: Report;
  diagnosis: string[];
}

/**
 * Schedules tried while shrinking a counterexample, at most (`SIM_SHRINK` overrides): past that,
 * candidates pass unrun and the smallest found so far is reported. Shrinking took more runs than
 * the searches themselves; give it thousands to minimise a new counterexample.
 */
const SHRINK_BUDGET = Number(process.env.SIM_SHRINK ?? 100);

/**
 * Runs schedules of `shape` until one breaks `invariant` (then shrinks it) or `numRuns` pass,
 * and prints what it found: the shrunk schedule, its trace, and how to replay it.
 */
export async function search(
  name: string,
  shape: ScheduleShape,
  invariant: Invariant,
  seed: number,
  numRuns: number,
): Promise<Outcome> {
  const settings = runSettings(seed, numRuns);
  const started = process.hrtime.bigint();
  let tried = 0;
  let failedAt: number | undefined;
  const result = await fc.check(
    fc.asyncProperty(schedules(shape), async (schedule) => {
      tried += 1;
      if (failedAt !== undefined && tried - failedAt > SHRINK_BUDGET) return true;
      const report = await simulate(schedule);
      const ok = holds(report, invariant);
      if (!ok) failedAt ??= tried;
      return ok;
    }),
    settings,
  );
  const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  if (!result.failed || !result.counterexample) {
    console.log(`[simulation] ${name}: ${result.numRuns} schedules, no counterexample (${invariant} invariant), ${ms} ms, seed ${settings.seed}`);
    return { failed: false, runs: result.numRuns, ms, seed: settings.seed, diagnosis: [] };
  }
  const [counterexample] = result.counterexample;
  const report = await simulate(counterexample);
  const diagnosis = [...diagnose(report, breaches(report, invariant))];
  console.log(
    [
      `[simulation] ${name}: counterexample after ${result.numRuns} schedules (${invariant} invariant; ${result.numShrinks} shrinks), ${ms} ms`,
      `  replay: SIM_SEED=${result.seed} SIM_PATH=${result.counterexamplePath} (with -t to pick this test), or SIM_SCHEDULE='${JSON.stringify(counterexample)}'`,
      `  diagnosis: ${diagnosis.join('; ') || '(none)'}`,
      ...breaches(report, invariant).map(
        (v) => `  breach: ${v.instance} accepted ${v.token} at ${(v.began / 1000).toFixed(3)}s (${v.kind}), ended by ${v.ended}`,
      ),
      ...report.errors.map((error) => `  error: ${error}`),
      ...report.trace.map((line) => `  ${line}`),
    ].join('\n'),
  );
  return { failed: true, runs: result.numRuns, ms, seed: settings.seed, counterexample, report, diagnosis };
}
