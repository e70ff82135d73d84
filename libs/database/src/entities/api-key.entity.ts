import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Scope, TenantId } from '#libs/contracts';

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  /** SHA-256 of the token, hex: the token itself is never stored. */
  @Column({ name: 'key_hash', type: 'text', unique: true })
  keyHash!: string;

  /** The one tenant whose data the key sees. */
  @Column({ type: 'text' })
  tenant!: TenantId;

  @Column({ type: 'text', array: true })
  scopes!: Scope[];

  /** Written in batches by the gateways (at most every few seconds), not per request. */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  /** The token replaced by the last rotation, accepted until `previousKeyExpiresAt`. */
  @Column({ name: 'previous_key_hash', type: 'text', nullable: true })
  previousKeyHash!: string | null;

  @Column({ name: 'previous_key_expires_at', type: 'timestamptz', nullable: true })
  previousKeyExpiresAt!: Date | null;

  /** Requests per minute; null means DEFAULT_RATE_LIMIT_PER_MINUTE. */
  @Column({ name: 'rate_limit', type: 'integer', nullable: true })
  rateLimit!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
