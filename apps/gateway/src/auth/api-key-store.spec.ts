import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TENANT } from '#libs/contracts';
import { hashApiKey, type ActiveApiKey, type ApiKeysRepository } from '#libs/database';
import { ApiKeyStore } from './api-key-store.js';

/** The store against a stubbed repository: what reaches the database, and when. */
function storeWith(keys: ActiveApiKey[]) {
  const touches: string[][] = [];
  const repository = {
    findActive: () => Promise.resolve(keys),
    touchLastUsed: (ids: string[]) => {
      touches.push([...ids].sort());
      return Promise.resolve();
    },
  } as unknown as ApiKeysRepository;
  return { store: new ApiKeyStore(repository), touches };
}

function key(id: string, token: string, previous?: { token: string; expiresAt: Date }): ActiveApiKey {
  return {
    id,
    name: id,
    tenant: DEFAULT_TENANT,
    scopes: ['query'],
    keyHash: hashApiKey(token),
    previousKeyHash: previous === undefined ? null : hashApiKey(previous.token),
    previousKeyExpiresAt: previous?.expiresAt ?? null,
    rateLimit: null,
    tenantRateLimit: null,
  };
}

describe('ApiKeyStore', () => {
  it('writes last use once per flush for all the keys used meanwhile, never per request', async () => {
    const { store, touches } = storeWith([key('a', 'token-a'), key('b', 'token-b'), key('c', 'token-c')]);
    await store.onModuleInit();
    try {
      for (let i = 0; i < 100; i++) store.find(i % 2 === 0 ? 'token-a' : 'token-b');
      assert.equal(store.find('unknown'), undefined);
      assert.deepEqual(touches, []);
      await store.flushLastUsed();
      assert.deepEqual(touches, [['a', 'b']]);
      await store.flushLastUsed();
      assert.equal(touches.length, 1, 'nothing used since: no write');
    } finally {
      await store.onModuleDestroy();
    }
  });

  it('accepts a rotated-out token until its deadline, then refuses it even before the next reload', async () => {
    const expiresAt = new Date(Date.now() + 200);
    const { store } = storeWith([key('a', 'new-token', { token: 'old-token', expiresAt })]);
    await store.onModuleInit();
    try {
      assert.equal(store.find('old-token')?.id, 'a');
      assert.equal(store.find('new-token')?.id, 'a');
      await new Promise((resolve) => setTimeout(resolve, 250));
      assert.equal(store.find('old-token'), undefined);
      assert.equal(store.find('new-token')?.id, 'a');
    } finally {
      await store.onModuleDestroy();
    }
  });
});
