// Our port of Jackson's e2e/api/v1/directory-sync/groups.spec.ts: groups pushed through the
// directory's SCIM endpoint, read back through the API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createDirectory,
  createGroup,
  deleteFirstDirectory,
  directoryPayload,
  expectStatus,
  get,
  groups,
  matchObject,
} from './helpers.mjs';

const { tenant, product } = { ...directoryPayload, tenant: 'api-boxyhq-3' };
describe('groups', () => {
  before(async () => {
    const directory = await createDirectory({ ...directoryPayload, tenant });
    await createGroup(directory, groups[0]);
    await createGroup(directory, groups[1]);
  });

  after(() => deleteFirstDirectory(tenant));

  describe('GET /api/v1/dsync/groups', () => {
    test('should be able to get all groups from a directory', async () => {
      const response = await get('/api/v1/dsync/groups', { tenant, product });
      expectStatus(response, 200);
      assert.equal(response.json().data.length, 2);
    });
  });

  describe('GET /api/v1/dsync/groups/:id', () => {
    test('should be able to get a group from a directory', async () => {
      const { data: directoryGroups } = (await get('/api/v1/dsync/groups', { tenant, product })).json();
      const [firstGroup] = directoryGroups;

      const response = await get(`/api/v1/dsync/groups/${firstGroup.id}`, { tenant, product });
      expectStatus(response, 200);
      matchObject(response.json().data, firstGroup);
    });
  });
});
