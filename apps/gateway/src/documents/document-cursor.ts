const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CursorPosition {
  createdAt: Date;
  id: string;
}

/**
 * The keyset position (created_at, id) of a page's last item, opaque to clients.
 * Exact because created_at is stored with millisecond precision, as a JS Date holds it.
 */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.createdAt.getTime()}.${position.id}`).toString('base64url');
}

/** Undefined for anything that is not a cursor this code made. */
export function decodeCursor(cursor: string): CursorPosition | undefined {
  const match = /^(\d{1,16})\.(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (match === null) return undefined;
  const [, millis, id] = match;
  if (millis === undefined || id === undefined || !UUID.test(id)) return undefined;
  const createdAt = new Date(Number(millis));
  return Number.isNaN(createdAt.getTime()) ? undefined : { createdAt, id };
}
