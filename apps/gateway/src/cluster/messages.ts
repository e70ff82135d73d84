/** primary → worker: close gracefully (drain in-flight requests), then exit. */
export const SHUTDOWN_MESSAGE = { type: 'rag:shutdown' } as const;

export function isShutdownMessage(message: unknown): boolean {
  return (message as { type?: unknown } | null)?.type === SHUTDOWN_MESSAGE.type;
}
