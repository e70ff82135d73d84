/**
 * Whether an error means Postgres is gone or not taking queries (refused, reset, shutting down,
 * starting up), as opposed to a problem with the query or the data: SQLSTATE class 08
 * (connection exception), 57P01-57P03 (admin/crash shutdown, cannot connect now), socket errors,
 * and node-postgres's own messages for a dropped or unobtainable connection. TypeORM copies the
 * driver's `code` onto its QueryFailedError.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^(08|57P0[123]|E[A-Z]+$)/u.test(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect/iu.test(
    (error as Error | null)?.message ?? '',
  );
}
