import { UnrecoverableError } from 'bullmq';

/**
 * The upload itself is the problem (corrupt file, no text, unsupported type): retrying cannot help,
 * so BullMQ fails the job at once. The message is shown to the user as the document's `error`.
 */
export class DocumentUnreadableError extends UnrecoverableError {}
