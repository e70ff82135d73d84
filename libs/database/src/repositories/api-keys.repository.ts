import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import { ApiKeyEntity } from '../entities/api-key.entity.js';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every key that may authenticate; the gateway holds them in memory. */
  findActive(): Promise<ApiKeyEntity[]> {
    return this.dataSource.getRepository(ApiKeyEntity).findBy({ revokedAt: IsNull() });
  }

  /** Creates the key, or replaces the hash and limit of a key with that name (and un-revokes it). */
  async upsert(name: string, keyHash: string, rateLimit: number | null): Promise<ApiKeyEntity> {
    const repository = this.dataSource.getRepository(ApiKeyEntity);
    await repository.upsert({ name, keyHash, rateLimit, revokedAt: null }, { conflictPaths: ['name'] });
    return repository.findOneByOrFail({ name });
  }

  /** Returns false when no active key has that name. */
  async revoke(name: string): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(ApiKeyEntity)
      .update({ name, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}
