import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull } from 'typeorm';
import type { Scope, TenantId } from '#libs/contracts';
import { ApiKeyEntity } from '../entities/api-key.entity.js';

/** A key that may authenticate, with what the gateway needs to hold it in memory. */
export interface ActiveApiKey {
  id: string;
  name: string;
  tenant: TenantId;
  scopes: Scope[];
  keyHash: string;
  /** The token replaced by a rotation, while its grace period lasts. */
  previousKeyHash: string | null;
  previousKeyExpiresAt: Date | null;
  rateLimit: number | null;
  /** The tenant's own limit over all its keys; null: none. */
  tenantRateLimit: number | null;
}

export interface NewApiKey {
  name: string;
  tenant: TenantId;
  scopes: Scope[];
  keyHash: string;
  rateLimit: number | null;
}

/** A key as operators list it: never the token, not even its hash. */
export interface ApiKeyListing {
  name: string;
  tenant: TenantId;
  scopes: Scope[];
  rateLimit: number | null;
  tenantRateLimit: number | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  previousKeyExpiresAt: Date | null;
}

interface ActiveRow {
  id: string;
  name: string;
  tenant: TenantId;
  scopes: Scope[];
  key_hash: string;
  previous_key_hash: string | null;
  previous_key_expires_at: Date | null;
  rate_limit: number | null;
  tenant_rate_limit: number | null;
}

interface ListingRow {
  name: string;
  tenant: TenantId;
  scopes: Scope[];
  rate_limit: number | null;
  tenant_rate_limit: number | null;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  previous_key_expires_at: Date | null;
}

/**
 * API keys and the tenants they belong to. Not tenant-scoped itself: this is where a token
 * becomes a tenant, and what operators manage through the CLI.
 */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every key that may authenticate (with its tenant's limit); the gateway holds them in memory. */
  async findActive(): Promise<ActiveApiKey[]> {
    const rows: ActiveRow[] = await this.dataSource.query(
      `SELECT k.id, k.name, k.tenant, k.scopes, k.key_hash, k.rate_limit, t.rate_limit AS tenant_rate_limit,
              CASE WHEN k.previous_key_expires_at > now() THEN k.previous_key_hash END AS previous_key_hash,
              CASE WHEN k.previous_key_expires_at > now() THEN k.previous_key_expires_at END AS previous_key_expires_at
       FROM api_keys k JOIN tenants t ON t.name = k.tenant
       WHERE k.revoked_at IS NULL`,
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      tenant: row.tenant,
      scopes: row.scopes,
      keyHash: row.key_hash,
      previousKeyHash: row.previous_key_hash,
      previousKeyExpiresAt: row.previous_key_expires_at,
      rateLimit: row.rate_limit,
      tenantRateLimit: row.tenant_rate_limit,
    }));
  }

  /**
   * Creates the key (and its tenant, if new), or replaces the hash, tenant, scopes and limit of a key
   * with that name (and un-revokes it; a pending rotation's old token stops at once).
   */
  async upsert(key: NewApiKey): Promise<ApiKeyEntity> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING`, [key.tenant]);
      const repository = manager.getRepository(ApiKeyEntity);
      await repository.upsert(
        {
          name: key.name,
          tenant: key.tenant,
          scopes: key.scopes,
          keyHash: key.keyHash,
          rateLimit: key.rateLimit,
          revokedAt: null,
          previousKeyHash: null,
          previousKeyExpiresAt: null,
        },
        { conflictPaths: ['name'] },
      );
      return repository.findOneByOrFail({ name: key.name });
    });
  }

  /** Returns false when no active key has that name. */
  async revoke(name: string): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(ApiKeyEntity)
      .update({ name, revokedAt: IsNull() }, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Gives the key a new token; the current one keeps working until `previousExpiresAt`. Returns
   * null when no active key has that name.
   */
  async rotate(name: string, keyHash: string, previousExpiresAt: Date): Promise<ApiKeyEntity | null> {
    const rows: [unknown[], number] = await this.dataSource.query(
      `UPDATE api_keys
       SET previous_key_hash = key_hash, previous_key_expires_at = $3, key_hash = $2
       WHERE name = $1 AND revoked_at IS NULL`,
      [name, keyHash, previousExpiresAt],
    );
    if (rows[1] === 0) return null;
    return this.dataSource.getRepository(ApiKeyEntity).findOneByOrFail({ name });
  }

  /** Every key, revoked ones included, oldest first. */
  async list(): Promise<ApiKeyListing[]> {
    const rows: ListingRow[] = await this.dataSource.query(
      `SELECT k.name, k.tenant, k.scopes, k.rate_limit, t.rate_limit AS tenant_rate_limit, k.created_at,
              k.revoked_at, k.last_used_at,
              CASE WHEN k.previous_key_expires_at > now() THEN k.previous_key_expires_at END AS previous_key_expires_at
       FROM api_keys k JOIN tenants t ON t.name = k.tenant
       ORDER BY k.created_at, k.name`,
    );
    return rows.map((row) => ({
      name: row.name,
      tenant: row.tenant,
      scopes: row.scopes,
      rateLimit: row.rate_limit,
      tenantRateLimit: row.tenant_rate_limit,
      createdAt: row.created_at,
      revokedAt: row.revoked_at,
      lastUsedAt: row.last_used_at,
      previousKeyExpiresAt: row.previous_key_expires_at,
    }));
  }

  /** Sets (or with null removes) the tenant-wide rate limit; returns false for an unknown tenant. */
  async setTenantRateLimit(tenant: TenantId, rateLimit: number | null): Promise<boolean> {
    const rows: [unknown[], number] = await this.dataSource.query(
      `UPDATE tenants SET rate_limit = $2 WHERE name = $1`,
      [tenant, rateLimit],
    );
    return rows[1] > 0;
  }

  /** One statement for every key a gateway saw since its last flush. */
  async touchLastUsed(ids: string[], usedAt: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(
      `UPDATE api_keys SET last_used_at = greatest(last_used_at, $2::timestamptz) WHERE id = ANY($1::uuid[])`,
      [ids, usedAt],
    );
  }
}
