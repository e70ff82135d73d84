import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'rag:isPublic';

/** Marks a route that needs no API key (health, docs). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
