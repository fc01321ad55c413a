/** Largest JSON body accepted, in bytes (413 beyond). */
export const BODY_LIMIT_BYTES = 100 * 1024;

/** TRUST_PROXY as both adapters take it: `true`, a hop count, or addresses/subnets; unset = false. */
export function trustProxyOf(value: string | undefined): boolean | number | string {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}
