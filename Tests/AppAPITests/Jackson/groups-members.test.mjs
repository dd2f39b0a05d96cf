// Our port of Jackson's e2e/api/v1/directory-sync/groups-members.spec.ts: a member added by
// a SCIM PATCH (Jackson's body: no `schemas`, an extra `action`), read back through the API.
// The member is a user the directory never had: Jackson records any member value, and so
// does our hub.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  addGroupMember,
  createDirectory,
  createGroup,
  deleteFirstDirectory,
  directoryPayload,
  expectStatus,
  get,
  getDirectory,
  getGroupsByDirectoryId,
  groups,
  matchObject,
} from './helpers.mjs';

const { tenant, product } = { ...directoryPayload, tenant: 'api-boxyhq-3' };
const memberId = 'member1';

describe('group members', () => {
  before(async () => {
    const directory = await createDirectory({ ...directoryPayload, tenant });
    const group = await createGroup(directory, groups[0]);
    await addGroupMember(directory, group, memberId);
  });

  after(() => deleteFirstDirectory(tenant));

  describe('GET /api/v1/dsync/groups/:id/members', () => {
    test('should be able to get a group members from a directory', async () => {
      const [directory] = await getDirectory({ tenant, product });
      const [group] = await getGroupsByDirectoryId(directory);

      const response = await get(`/api/v1/dsync/groups/${group.id}/members`, { tenant, product });
      expectStatus(response, 200);
      const { data: members } = response.json();
      assert.equal(members.length, 1);
      matchObject(members, [{ user_id: memberId }]);
    });
  });
});
