import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The alert rules the README tells operators to load. */
export const ALERT_RULES_PATH = join(__dirname, '..', '..', 'docs', 'prometheus', 'session-alerts.yml');

/**
 * A test copy of the docs' rules that fires within seconds: every `for:` becomes 2s, every 5m rate
 * window 15s, and these thresholds lower. Only numbers and durations change: the expressions,
 * series and labels are the docs' own. Each replacement must match exactly once (so an edit of
 * the docs that breaks one fails the test instead of testing something else).
 */
const THRESHOLDS: Array<[string, string]> = [
  // The lag is 10-11 s normally with a 1 s interval; frozen, it passes 15 s within seconds.
  ['(session_cache_reconciliation_lag_seconds) > 60', '(session_cache_reconciliation_lag_seconds) > 15'],
];

export function alertRulesForTests(): string {
  let rules = readFileSync(ALERT_RULES_PATH, 'utf8');
  for (const [from, to] of THRESHOLDS) {
    const count = rules.split(from).length - 1;
    if (count !== 1) throw new Error(`Expected "${from}" once in ${ALERT_RULES_PATH}, found it ${count} times`);
    rules = rules.replace(from, to);
  }
  return rules.replace(/^(\s+for:) \d+[smh]$/gm, '$1 2s').replace(/\[5m\]/g, '[15s]');
}
