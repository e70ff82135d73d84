import { ApiProperty } from '@nestjs/swagger';

/** The one error shape (OpenAPI side of ErrorBody). */
export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({
    description: 'Names the offending field or limit.',
    example: 'title: must be 1–300 characters',
  })
  message!: string;
}
