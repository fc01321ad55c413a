import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The series names a PromQL expression reads (not its functions, labels, keywords or strings). */
export function seriesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)].filter((m) => !m[2] && !KEYWORDS.has(m[1])).map((m) => m[1]);
  return [...new Set(names)];
}

/** The Grafana dashboard in docs/grafana. */
export const DASHBOARD_PATH = join(__dirname, '..', '..', 'docs', 'grafana', 'sessions-dashboard.json');

/** Every query of the dashboard: `{panel, expr}`. */
export function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
}

/** Every `expr:` of the alert rules (YAML block scalars included). */
export function ruleExpressions(rules: string): string[] {
  const exprs: string[] = [];
  const lines = rules.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = lines[i].match(/^(\s*)expr:\s*(.*)$/);
    if (!match) continue;
    if (match[2] !== '|' && match[2] !== '>') {
      exprs.push(match[2]);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1].trim() === '' || lines[i + 1].search(/\S/) > match[1].length)) block.push(lines[++i].trim());
    exprs.push(block.join(' '));
  }
  return exprs;
}
