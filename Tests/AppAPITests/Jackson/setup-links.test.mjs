// Our port of Jackson's e2e/api/v1/directory-sync/setup-links.spec.ts. The tests follow
// one another, as Jackson's do: each uses what the one before left.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectStatus, expectToMatch, request } from './helpers.mjs';

const tenant = 'tenant-1';
const product = 'product-1';
const webhook = { webhook_url: 'http://localhost:3000/webhook', webhook_secret: 'webhook-secret' };
const path = '/api/v1/dsync/setuplinks';

const createLink = (tenant) => request('POST', path, { data: { tenant, product, ...webhook } });

describe('setup links', () => {
  // POST /api/v1/dsync/setuplinks
  test('create the setup link', async () => {
    const response = await createLink(tenant);
    expectStatus(response, 201);
    const { data } = response.json();
    expectToMatch(data.tenant, tenant);
    expectToMatch(data.product, product);
    expectToMatch(data.service, 'dsync');
  });

  // GET /api/v1/dsync/setuplinks?id={id}
  test('get the setup link by id', async () => {
    let response = await request('GET', path, { params: { tenant, product } });
    const { data: setupLink } = response.json();

    response = await request('GET', path, { params: { id: setupLink.setupID } });
    expectStatus(response, 200);
    const { data } = response.json();
    expectToMatch(data.tenant, tenant);
    expectToMatch(data.product, product);
    expectToMatch(data.service, 'dsync');
  });

  // GET /api/v1/dsync/setuplinks?tenant={tenant}&product={product}
  test('get the setup link by tenant & product', async () => {
    const response = await request('GET', path, { params: { tenant, product } });
    expectStatus(response, 200);
    const { data } = response.json();
    expectToMatch(data.tenant, tenant);
    expectToMatch(data.product, product);
    expectToMatch(data.service, 'dsync');
  });

  // DELETE /api/v1/dsync/setuplinks?tenant={tenant}&product={product}
  test('delete the setup link by tenant & product', async () => {
    let response = await request('DELETE', path, { params: { tenant, product } });
    response.json();
    expectStatus(response, 200);

    response = await request('GET', path, { params: { tenant, product } });
    expectStatus(response, 404, false);
  });

  // DELETE /api/v1/dsync/setuplinks?id={id}
  test('delete the setup link by id', async () => {
    let response = await createLink(tenant);
    const { data: setupLink } = response.json();

    response = await request('DELETE', path, { params: { id: setupLink.setupID } });
    response.json();
    expectStatus(response, 200);

    response = await request('GET', path, { params: { id: setupLink.setupID } });
    expectStatus(response, 404, false);
  });

  // GET /api/v1/dsync/setuplinks/product
  test('get the setup links by product', async () => {
    await createLink('tenant-2');
    await createLink('tenant-3');

    const response = await request('GET', `${path}/product`, { params: { product } });
    expectStatus(response, 200);
    const { data: setupLinks } = response.json();
    assert.equal(setupLinks.length, 2);
    assert.equal(setupLinks[0].product, product);
    assert.equal(setupLinks[1].product, product);

    await request('DELETE', path, { params: { tenant: 'tenant-2', product } });
    await request('DELETE', path, { params: { tenant: 'tenant-3', product } });
  });
});
