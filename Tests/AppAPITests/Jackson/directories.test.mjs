// Our port of Jackson's e2e/api/v1/directory-sync/directories.spec.ts: create, list by
// tenant and product, get by id, update, list by product, delete.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  baseURL,
  createDirectory,
  deleteDirectory,
  deleteFirstDirectory,
  directoryExpected,
  directoryPayload,
  get,
  getDirectory,
  getDirectoryByProduct,
  matchObject,
  request,
  expectStatus,
} from './helpers.mjs';

const { tenant, product } = directoryPayload;

describe('directories', () => {
  before(async () => {
    matchObject(await createDirectory(directoryPayload), directoryExpected);
  });

  after(() => deleteFirstDirectory(tenant));

  describe('POST /api/v1/dsync', () => {
    test('should not be able to create a directory if params are invalid', async () => {
      for (const data of [{ ...directoryPayload, tenant: '' }, { ...directoryPayload, product: '' }]) {
        const response = await request('POST', '/api/v1/dsync', { data });
        expectStatus(response, 400);
        // Our error bodies always carry `code` (the HTTP status) as well; Jackson's carry it on some routes.
        matchObject(response.json(), { error: { message: 'Missing required parameters.' } });
      }
    });
  });

  describe('GET /api/v1/dsync', () => {
    test('should be able to get a directory by tenant and product', async () => {
      matchObject(await getDirectory({ tenant, product }), [directoryExpected]);
    });

    test('should be able to get a directory by ID', async () => {
      const [directory] = await getDirectory({ tenant, product });
      const response = await get(`/api/v1/dsync/${directory.id}`);
      expectStatus(response, 200);
      matchObject(response.json(), { data: directoryExpected });
    });
  });

  describe('PATCH /api/v1/dsync/{directoryId}', () => {
    test('should be able update', async () => {
      const [directory] = await getDirectory({ tenant, product });
      const patch = async (data, expected) => {
        const response = await request('PATCH', `/api/v1/dsync/${directory.id}`, { data });
        expectStatus(response, 200);
        matchObject(response.json(), { data: expected });
      };

      // The name.
      await patch({ name: 'new name' }, { ...directoryExpected, name: 'new name' });

      // Deactivated.
      await patch({ deactivated: true }, { ...directoryExpected, name: 'new name', deactivated: true });

      // The webhook.
      const webhook = { endpoint: `${baseURL}/api/hello`, secret: 'new-secret' };
      const updated = { ...directoryExpected, name: 'new name', deactivated: true, webhook };
      await patch({ webhook_url: webhook.endpoint, webhook_secret: webhook.secret }, updated);

      // Read again: kept.
      const response = await get(`/api/v1/dsync/${directory.id}`);
      expectStatus(response, 200);
      matchObject(response.json(), { data: updated });
    });
  });

  describe('GET /api/v1/dsync/product', () => {
    test('should be able to get a directory by product', async () => {
      let directories = await getDirectoryByProduct({ product });
      assert.equal(directories.length, 1);

      await deleteDirectory(directories[0].id);

      directories = await getDirectoryByProduct({ product });
      assert.equal(directories.length, 0);
    });
  });
});
