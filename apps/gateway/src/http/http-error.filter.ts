import {
  Catch,
  HttpException,
  HttpStatus,
  Inject,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Every error leaves as `{statusCode, error, message}`; a client error is never a 5xx. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const body = this.toBody(exception, http.getRequest<FastifyRequest>());
    if (exception instanceof RetryLaterException) {
      void reply.header('retry-after', String(exception.retryAfterSeconds));
    }
    const request = http.getRequest<FastifyRequest>();
    if (exception instanceof HttpException && body.statusCode >= 500) {
      // Deliberate 5xx (timeout, shed load, worker failure): an operational event, not a bug.
      this.logger.warn(
        `${request.method} ${request.url} [${request.id}]: ${body.statusCode} ${body.message}`,
      );
    } else if (body.statusCode >= 500) {
      this.logger.error(
        `${request.method} ${request.url} [${request.id}]: ` +
          (exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)),
      );
    }
    void reply.status(body.statusCode).send(body);
  }

  private toBody(exception: unknown, request: FastifyRequest): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Nest wraps Fastify's own client errors (body limit, content type) and keeps them as the cause.
      const message = this.fastifyMessage(exception.cause, request) ?? messageOf(exception);
      return { statusCode: status, error: REASON[status] ?? exception.name, message };
    }
    const fastifyError = exception as FastifyError;
    if (
      typeof fastifyError.statusCode === 'number' &&
      fastifyError.statusCode >= 400 &&
      fastifyError.statusCode < 500
    ) {
      const status = fastifyError.statusCode;
      const message = this.fastifyMessage(fastifyError, request) ?? fastifyError.message;
      return { statusCode: status, error: REASON[status] ?? 'Bad Request', message };
    }
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: 'Internal Server Error',
      message: 'Internal server error',
    };
  }

  /** Fastify's wording names neither the limit nor the header; these name them. */
  private fastifyMessage(error: unknown, request: FastifyRequest): string | undefined {
    switch ((error as FastifyError | undefined)?.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return `request body is larger than MAX_UPLOAD_BYTES (${this.config.MAX_UPLOAD_BYTES} bytes)`;
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return `Content-Type: ${request.headers['content-type']?.slice(0, 100) ?? 'absent'} is not supported here`;
      default:
        return undefined;
    }
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
