// Our port of Jackson's e2e/api/v1/directory-sync/events.spec.ts: a directory whose webhook
// events are logged, a group created and a member added through SCIM, then the event log
// listed, read by id, and deleted.
//
// Jackson's suite points the webhook at its own /api/hello; ours at a receiver in this
// process that answers the same (200).
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
  getDirectoryEvents,
  groups,
  request,
  startReceiver,
  updateDirectory,
  waitFor,
} from './helpers.mjs';

const { tenant, product } = { ...directoryPayload, tenant: 'api-boxyhq-3' };
const memberId = 'member1';
let receiver;

describe('events', () => {
  before(async () => {
    receiver = await startReceiver();
    let directory = await createDirectory({ ...directoryPayload, webhook_url: receiver.url, webhook_secret: 'secret', tenant });
    directory = await updateDirectory(directory, { log_webhook_events: true });

    const group = await createGroup(directory, groups[0]);
    // `member1` is no user of the directory: Jackson still sends (and logs) group.user_added, without `data`.
    await addGroupMember(directory, group, memberId);
  });

  after(async () => {
    try {
      await deleteFirstDirectory(tenant);
    } finally {
      await receiver?.close();
    }
  });

  describe('GET /api/v1/dsync/events', () => {
    test('should be able to get list of events from a directory', async () => {
      const [directory] = await getDirectory({ tenant, product });

      // By tenant, product and directoryId.
      const events = await getDirectoryEvents({ tenant, product, directoryId: directory.id });
      assert.equal(events.length, 2, JSON.stringify(events));
    });
  });

  describe('GET /api/v1/dsync/events/:event', () => {
    test('should be able to get an event from a directory', async () => {
      const [directory] = await getDirectory({ tenant, product });

      // By directoryId alone.
      const events = await getDirectoryEvents({ directoryId: directory.id });
      const read = () => get(`/api/v1/dsync/events/${events[0].id}`, { tenant, product, directoryId: directory.id });

      // Jackson sends the webhook inside the SCIM request, so its log has the status when
      // the SCIM call returns. Our hub answers the identity provider first and delivers from
      // its outbox (retrying, surviving restarts): the status shows once the webhook went.
      let response = await read();
      expectStatus(response, 200);
      response = await waitFor(async () => {
        const r = await read();
        return r.json().data?.status_code === 200 ? r : null;
      }, 30);
      assert.ok(response, `the event never showed status_code 200: ${(await read()).text}`);
      expectStatus(response, 200);
      assert.equal(response.json().data.status_code, 200);

      // Beyond Jackson's asserts: the receiver got both webhooks.
      const names = receiver.received.map((body) => JSON.parse(body).event).sort();
      assert.deepEqual(names, ['group.created', 'group.user_added']);
    });
  });

  describe('DELETE /api/v1/dsync/events', () => {
    test('should be able to delete all the events from directory', async () => {
      const [directory] = await getDirectory({ tenant, product });

      const response = await request('DELETE', '/api/v1/dsync/events', { params: { directoryId: directory.id } });
      const events = await getDirectoryEvents({ tenant, product, directoryId: directory.id });

      expectStatus(response, 200);
      assert.equal(events.length, 0);
    });
  });
});
