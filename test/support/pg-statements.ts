import { Client } from 'pg';

/** What `recordStatements` gives: the texts recorded while on, and the way back. */
export interface StatementRecorder {
  /** The SQL of every statement sent while `on` (whitespace collapsed), in order. */
  readonly texts: string[];
  on: boolean;
  restore(): void;
}

/**
 * Records every statement node-postgres sends from this process — through TypeORM's
 * `dataSource.query` and through the pool's named prepared statements alike — by wrapping
 * `Client.prototype.query`, the one call both reach.
 */
export function recordStatements(): StatementRecorder {
  const original = Client.prototype.query;
  const recorder: StatementRecorder = {
    texts: [],
    on: false,
    restore: () => {
      Client.prototype.query = original;
    },
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Client.prototype.query = function (this: Client, config: any, ...rest: any[]) {
    if (recorder.on) {
      const text = typeof config === 'string' ? config : config?.text;
      if (typeof text === 'string') recorder.texts.push(text.replace(/\s+/g, ' ').trim());
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (original as any).call(this, config, ...rest);
  } as typeof original;
  return recorder;
}
