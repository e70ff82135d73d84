import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestException, type ArgumentsHost } from '@nestjs/common';
import type { AppConfig } from '#libs/config';
import { HttpErrorFilter, type ErrorBody } from './http-error.filter.js';

/** Runs the filter on one exception and returns what it sent. */
function answer(exception: unknown): { status: number; body: ErrorBody } {
  const sent: { status: number; body: ErrorBody } = {
    status: 0,
    body: { statusCode: 0, error: '', message: '' },
  };
  const reply = {
    header: () => reply,
    status: (status: number) => {
      sent.status = status;
      return reply;
    },
    send: (body: ErrorBody) => {
      sent.body = body;
      return reply;
    },
  };
  const request = { method: 'POST', url: '/documents', id: 'req-1', headers: {} };
  const host = {
    switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }),
  } as unknown as ArgumentsHost;
  const filter = new HttpErrorFilter({ MAX_UPLOAD_BYTES: 1024 } as AppConfig);
  // The filter logs the real error for operators; the test only looks at the answer.
  Reflect.set(filter, 'logger', { error: () => {}, warn: () => {} });
  filter.catch(exception, host);
  return sent;
}

describe('HttpErrorFilter', () => {
  it('answers an unexpected error with a generic 500: no stack, SQL or file path', () => {
    const failure = new Error(
      'duplicate key value violates unique constraint "documents_pkey" in INSERT INTO documents (id) VALUES ($1)',
    );
    failure.stack = `${failure.message}\n    at DocumentsRepository.createQueued (/srv/app/dist/libs/database/src/x.js:10:5)`;
    const { status, body } = answer(failure);
    assert.equal(status, 500);
    assert.deepEqual(body, {
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
    });
  });

  it('keeps the message of a deliberate client error', () => {
    const { status, body } = answer(new BadRequestException('title: must be a string'));
    assert.equal(status, 400);
    assert.equal(body.message, 'title: must be a string');
  });
});
