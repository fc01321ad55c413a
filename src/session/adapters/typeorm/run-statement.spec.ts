import { isDatabaseUnavailable } from './run-statement.js';

/** What `pg` and TypeORM throw, by shape: a code (SQLSTATE or socket), a message, or a driver error inside. */
const error = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'failed')), fields);

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', error({ code: 'ECONNREFUSED' })],
    ['a reset socket', error({ code: 'ECONNRESET' })],
    ['a connection exception (08006)', error({ code: '08006' })],
    ['too many connections (53300)', error({ code: '53300' })],
    ['the server shutting down (57P01)', error({ code: '57P01' })],
    ['a statement timeout (57014)', error({ code: '57014' })],
    ['a TypeORM error around a driver error', error({ message: 'Query failed', driverError: { code: '08001' } })],
    ['a pool that could not connect in time', error({ message: 'timeout exceeded when trying to connect' })],
    ['a connection that broke', error({ message: 'Connection terminated unexpectedly' })],
  ])('is true for %s (503: retry shortly)', (_label, e) => {
    expect(isDatabaseUnavailable(e)).toBe(true);
  });

  it.each([
    ['a syntax error (42601)', error({ code: '42601' })],
    ['a unique violation (23505)', error({ code: '23505' })],
    ['a value too long (22001)', error({ code: '22001' })],
    ['a DataSource used before it was initialized', new TypeError("Cannot read properties of null (reading 'query')")],
    ['TypeORM not connected yet', error({ message: 'Cannot execute operation on "default" connection because connection is not yet established.' })],
    ['a programming error', new RangeError('Invalid time value')],
    ['nothing at all', undefined],
  ])('is false for %s (a bug, never reported as an outage)', (_label, e) => {
    expect(isDatabaseUnavailable(e)).toBe(false);
  });
});
