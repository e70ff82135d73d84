import {
  Catch,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { RetryLaterException } from './retry-later.exception.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/** Errors Fastify raises itself (body limit, content type, JSON syntax) carry a statusCode. */
interface FastifyError {
  statusCode?: number;
  code?: string;
  message: string;
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Every error leaves as `{statusCode, error, message}`; a client error is never a 5xx. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = this.toBody(exception);
    if (exception instanceof RetryLaterException) {
      void reply.header('retry-after', String(exception.retryAfterSeconds));
    }
    if (body.statusCode >= 500) {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
    }
    void reply.status(body.statusCode).send(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return { statusCode: status, error: REASON[status] ?? exception.name, message: messageOf(exception) };
    }
    const fastifyError = exception as FastifyError;
    if (
      typeof fastifyError.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      const status = fastifyError.statusCode;
      // Fastify's own wording does not name the limit.
      const message =
        fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? `request body is larger than MAX_UPLOAD_BYTES (${this.config.MAX_UPLOAD_BYTES} bytes)`
          : fastifyError.message;
      return { statusCode: status, error: REASON[status] ?? 'Bad Request', message };
    }
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: 'Internal Server Error',
      message: 'Internal server error',
    };
  }
}

/** Nest exceptions carry a string, or an object whose `message` is a string or a list of them. */
function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}
