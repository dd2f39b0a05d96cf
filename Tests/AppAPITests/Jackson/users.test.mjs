// Our port of Jackson's e2e/api/v1/directory-sync/users.spec.ts: users pushed through the
// directory's SCIM endpoint, read back through the API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createDirectory,
  createUser,
  deleteFirstDirectory,
  directoryPayload,
  expectStatus,
  get,
  matchObject,
  users,
} from './helpers.mjs';

const { tenant, product } = { ...directoryPayload, tenant: 'api-boxyhq-4' };

describe('users', () => {
  before(async () => {
    const directory = await createDirectory({ ...directoryPayload, tenant });
    await createUser(directory, users[0]);
    await createUser(directory, users[1]);
  });

  after(() => deleteFirstDirectory(tenant));

  describe('GET /api/v1/dsync/users', () => {
    test('should be able to get all users from a directory', async () => {
      const response = await get('/api/v1/dsync/users', { tenant, product });
      expectStatus(response, 200);
      assert.equal(response.json().data.length, 2);
    });
  });

  describe('GET /api/v1/dsync/users/:id', () => {
    test('should be able to get a user from a directory', async () => {
      // Our lists are in creation order, Jackson's newest first: the test takes whichever comes first.
      const { data: directoryUsers } = (await get('/api/v1/dsync/users', { tenant, product })).json();
      const [firstUser] = directoryUsers;

      const response = await get(`/api/v1/dsync/users/${firstUser.id}`, { tenant, product });
      expectStatus(response, 200);
      matchObject(response.json().data, firstUser);
    });
  });

  // Jackson's older specs called the same routes /api/v1/directory-sync/…, which Jackson
  // still rewrites to /api/v1/dsync/… (next.config.js), and so does our hub.
  describe('GET /api/v1/directory-sync/users', () => {
    test('answers as /api/v1/dsync/users does', async () => {
      const dsync = await get('/api/v1/dsync/users', { tenant, product });
      const legacy = await get('/api/v1/directory-sync/users', { tenant, product });
      expectStatus(legacy, 200);
      assert.deepEqual(legacy.json(), dsync.json());
    });
  });
});
