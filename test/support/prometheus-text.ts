/** Every sample of `name` in a Prometheus text exposition, with its labels. */
export function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const found: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const inner = line.slice(name.length).match(/^\{([^}]*)\}/)?.[1] ?? '';
    const labels = Object.fromEntries([...inner.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    found.push({ labels, value: Number(line.split(' ').pop()) });
  }
  return found;
}

/** The sum of the samples of `name` whose labels include these (0 when none). */
export function sumOf(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
