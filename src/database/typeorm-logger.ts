import { Logger as NestLogger } from '@nestjs/common';
import type { Logger } from 'typeorm';

/** What a failed statement is logged with: never its parameters, nor a value the message echoes. */
export interface QueryErrorFields {
  sql: string;
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
  error: string;
}

/**
 * TypeORM's logger for every DataSource of the app: JSON lines through Nest's `Logger` (pino),
 * context `TypeORM`, instead of TypeORM's console loggers, which write plain text to standard
 * output and print each failed statement with its parameters (password and token hashes,
 * addresses). Failed statements are errors and slow ones warnings, each with the SQL text and
 * never the parameters; PostgreSQL's `detail` (the key of a duplicate) is left out, and values
 * the message quotes are masked. Successful statements are not logged; a migration that ran is.
 */
export class TypeOrmLogger implements Logger {
  constructor(private readonly logger = new NestLogger('TypeORM')) {}

  logQuery(): void {
    // Every statement would be a line, with parameters to leave out: not logged at all.
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.error({ msg: 'query failed', ...queryErrorFields(error, query) });
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ msg: 'query is slow', sql: query, durationMs: time });
  }

  /** Migration progress: a migration run (or reverted) at `info`, the counting around it at `debug`. */
  logSchemaBuild(message: string): void {
    if (/^Migration .* (executed|reverted) successfully/.test(message)) this.logger.log(message);
    else this.logger.debug(message);
  }

  /** TypeORM calls it when migrations fail. */
  logMigration(message: string): void {
    this.logger.error(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = typeof message === 'string' ? message : String(message);
    if (level === 'warn') this.logger.warn(text);
    else this.logger.log(text);
  }
}

/**
 * The fields of a failed statement that are safe to log: its SQL, PostgreSQL's code and the names
 * it gives, and the message with every double-quoted part masked (`invalid input syntax for type
 * uuid: "…"` quotes the value sent).
 */
export function queryErrorFields(error: string | Error, query: string): QueryErrorFields {
  const e = (typeof error === 'string' ? { message: error } : error) as Partial<Record<'message' | 'code' | 'constraint' | 'table' | 'column', unknown>>;
  const text = (key: 'code' | 'constraint' | 'table' | 'column') => (typeof e[key] === 'string' ? { [key]: e[key] as string } : {});
  return {
    sql: query,
    ...text('code'),
    ...text('constraint'),
    ...text('table'),
    ...text('column'),
    error: String(e.message ?? '').replace(/"[^"]*"/g, '"…"'),
  };
}
