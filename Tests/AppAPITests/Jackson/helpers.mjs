// What the suites of our port of Jackson's e2e/api/v1/directory-sync share: the requests
// (as its e2e/api/helpers give its specs), a toMatchObject, the SCIM fixtures of its
// directory-sync tests, and a webhook receiver. Node 20 alone: global fetch, node:assert,
// node:http.
//
// The hub under test comes from the environment: BASE_URL (no trailing slash) and API_KEY,
// sent as `Authorization: Api-Key <key>`, as an app written for Jackson sends it.
import assert from 'node:assert/strict';
import http from 'node:http';

export const baseURL = (process.env.BASE_URL ?? '').replace(/\/+$/, '');
const apiKey = process.env.API_KEY;
assert.ok(baseURL && apiKey, 'set BASE_URL (the hub, for example http://127.0.0.1:8080) and API_KEY (from `setuplink api-key create NAME`)');

/** Jackson's e2e product; every suite's directories are in it. */
export const product = 'api-saml-jackson';

// ---- Requests ----------------------------------------------------------------

/**
 * One request. `path`: under BASE_URL (`/api/v1/dsync`) or a whole URL (a SCIM endpoint);
 * `params`: the query; `data`: a JSON body; `headers` replace the API key's when named alike.
 * The answer: `status`, `ok` (2xx), `text`, `json()`.
 */
export async function request(method, path, { params, data, headers } = {}) {
  const url = new URL(/^https?:/.test(path) ? path : baseURL + path);
  for (const [name, value] of Object.entries(params ?? {})) url.searchParams.set(name, value);
  const response = await fetch(url, {
    method,
    headers: { Authorization: `Api-Key ${apiKey}`, 'Content-Type': 'application/json', ...headers },
    body: data === undefined ? undefined : JSON.stringify(data),
  });
  const text = await response.text();
  return {
    status: response.status,
    ok: response.ok,
    text,
    json() {
      try {
        return JSON.parse(text);
      } catch {
        assert.fail(`${method} ${url.pathname}: the body is not JSON: ${text.slice(0, 300)}`);
      }
    },
  };
}

export const get = (path, params) => request('GET', path, { params });

/** `expect(response.ok()).toBe(ok)` and `expect(response.status()).toBe(status)`, showing the body when not. */
export function expectStatus(response, status, ok = status >= 200 && status < 300) {
  const where = `HTTP ${response.status}: ${response.text.slice(0, 500)}`;
  assert.equal(response.status, status, where);
  assert.equal(response.ok, ok, where);
}

// ---- toMatchObject -------------------------------------------------------------

/** `expect.any(String)` and the like: any value of that type. */
export const any = (type) => ({ [anyType]: type });
const anyType = Symbol('any');

/**
 * Where `actual` does not match `expected`, as Jest's toMatchObject reads it: an expected
 * object's keys must all be there and match (others may be there too); arrays must have the
 * same length and match element by element; `any(T)` is any value of type T; anything else
 * must be equal.
 */
export function mismatches(actual, expected, path = '$') {
  if (expected !== null && typeof expected === 'object' && anyType in expected) {
    const type = expected[anyType];
    const ok = actual !== null && actual !== undefined && Object(actual) instanceof type;
    return ok ? [] : [`${path}: expected any ${type.name}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length) return [`${path}: expected ${expected.length} elements, got ${actual.length}`];
    return expected.flatMap((e, i) => mismatches(actual[i], e, `${path}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    }
    return Object.keys(expected).flatMap((k) =>
      k in actual ? mismatches(actual[k], expected[k], `${path}.${k}`) : [`${path}.${k}: missing`]
    );
  }
  return Object.is(actual, expected) ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/** `expect(actual).toMatchObject(expected)`. */
export function matchObject(actual, expected) {
  const found = mismatches(actual, expected);
  assert.ok(found.length === 0, `${found.join('\n')}\nin ${JSON.stringify(actual)}`);
}

/** `expect(actual).toMatch(text)`: a string containing `text`. */
export function expectToMatch(actual, text) {
  assert.ok(typeof actual === 'string' && actual.includes(text), `${JSON.stringify(actual)} does not contain ${JSON.stringify(text)}`);
}

// ---- Directories -----------------------------------------------------------------

const directoryBase = { tenant: 'api-boxyhq', product, name: 'Directory name', type: 'okta-scim-v2' };

/** The body every suite creates its directory with (its own tenant). */
export const directoryPayload = { ...directoryBase, webhook_url: '', webhook_secret: '' };

/** What a new directory made with `directoryPayload` matches. */
export const directoryExpected = {
  ...directoryBase,
  id: any(String),
  log_webhook_events: false,
  scim: { path: any(String), secret: any(String), endpoint: any(String) },
  webhook: { endpoint: '', secret: '' },
};

/** POST /api/v1/dsync: 201, the directory. */
export async function createDirectory(payload) {
  const response = await request('POST', '/api/v1/dsync', { data: payload });
  expectStatus(response, 201);
  return response.json().data;
}

/** PATCH /api/v1/dsync/<id>: 200, the directory. */
export async function updateDirectory(directory, data) {
  const response = await request('PATCH', `/api/v1/dsync/${directory.id}`, { data });
  expectStatus(response, 200);
  return response.json().data;
}

/** GET /api/v1/dsync?tenant&product: 200, the list. */
export async function getDirectory({ tenant, product }) {
  const response = await get('/api/v1/dsync', { tenant, product });
  expectStatus(response, 200);
  return response.json().data;
}

/** GET /api/v1/dsync/product?product: 200, the list. */
export async function getDirectoryByProduct({ product }) {
  const response = await get('/api/v1/dsync/product', { product });
  expectStatus(response, 200);
  return response.json().data;
}

/** DELETE /api/v1/dsync/<id>: 200. */
export async function deleteDirectory(directoryId) {
  const response = await request('DELETE', `/api/v1/dsync/${directoryId}`);
  expectStatus(response, 200);
}

/** Every suite's afterAll: deletes the tenant's first directory, if there is one. */
export async function deleteFirstDirectory(tenant) {
  const [directory] = await getDirectory({ tenant, product });
  if (directory) await deleteDirectory(directory.id);
}

/** GET /api/v1/dsync/events with `params`: 200, the list. */
export async function getDirectoryEvents(params) {
  const response = await get('/api/v1/dsync/events', params);
  expectStatus(response, 200);
  return response.json().data;
}

// ---- SCIM, as the identity provider ------------------------------------------------

/** The URL of a SCIM operation: an Entra ID directory's endpoint carries a query after its path. */
export function scimOpUrl(directory, opPath) {
  if (directory.type !== 'azure-scim-v2') return `${directory.scim.endpoint}/${opPath}`;
  const [main, options] = directory.scim.endpoint.split('?');
  return `${main}${opPath}?${options}`;
}

function scim(method, url, directory, data) {
  return request(method, url, { data, headers: { Authorization: `Bearer ${directory.scim.secret}` } });
}

/** SCIM POST /Users: 201, the user. */
export async function createUser(directory, user) {
  const response = await scim('POST', scimOpUrl(directory, 'Users'), directory, user);
  expectStatus(response, 201);
  return response.json();
}

/** SCIM POST /Groups: 201, the group. */
export async function createGroup(directory, group) {
  const response = await scim('POST', scimOpUrl(directory, 'Groups'), directory, group);
  expectStatus(response, 201);
  return response.json();
}

/**
 * SCIM PATCH /Groups/<id> adding `member`, with Jackson's body (no `schemas`, an extra `action`).
 * Jackson answers 200 with the group; our hub 204 without a body (as Okta documents it, so a
 * large group is not read back on every member change; 200 with the group when the query asks
 * for `attributes`).
 */
export async function addGroupMember(directory, group, member) {
  const operation = { action: 'addGroupMember', op: 'add', path: 'members', value: [{ value: member }] };
  const response = await scim('PATCH', scimOpUrl(directory, `Groups/${group.id}`), directory, { Operations: [operation] });
  expectStatus(response, 204);
}

/** SCIM GET <scim.path>/Groups (the path, under BASE_URL): 200, `Resources`. */
export async function getGroupsByDirectoryId(directory) {
  const response = await scim('GET', baseURL + directory.scim.path + '/Groups', directory);
  expectStatus(response, 200);
  return response.json().Resources;
}

// ---- Fixtures: the users and groups of Jackson's directory-sync tests -------------

const userSchema = 'urn:ietf:params:scim:schemas:core:2.0:User';
const groupSchema = 'urn:ietf:params:scim:schemas:core:2.0:Group';

function scimUser(email, givenName, familyName, externalId, extra = {}) {
  return {
    schemas: [userSchema],
    userName: email,
    name: { givenName, familyName },
    emails: [{ primary: true, value: email, type: 'work' }],
    displayName: `${givenName} ${familyName}`,
    locale: 'en-US',
    externalId,
    groups: [],
    active: true,
    ...extra,
  };
}

export const users = [
  scimUser('jackson@boxyhq.com', 'Jackson', 'M', '00u5b1hpjh9tGaknX5d7', {
    name: { givenName: 'Jackson', familyName: 'M', formatted: 'Jackson M' },
    meta: { resourceType: 'User' },
    title: 'Manager',
  }),
  scimUser('kiran@boxyhq.com', 'Kiran', 'K', '00u1b1hpjh91GaknX5d7'),
  scimUser('david@example.com', 'David', 'Phillips', '00u1b1hpjh91GaknX547'),
];

export const groups = ['Developers', 'Designers'].map((displayName) => ({ schemas: [groupSchema], displayName, members: [] }));

// ---- A webhook receiver (what Jackson's /api/hello is to its events suite) --------

/**
 * An HTTP server in this process on 127.0.0.1, port chosen by the system, answering every
 * request 200 `{"name":"Jules Winnfield"}` as Jackson's `/api/hello` does. `url`: its
 * address; `received`: the bodies sent to it.
 */
export async function startReceiver() {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"name":"Jules Winnfield"}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref(); // never what keeps a test file's process alive, even when a suite fails before close()
  return {
    url: `http://127.0.0.1:${server.address().port}/api/hello`,
    received,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Calls `probe` every 100 ms until it returns something truthy or `seconds` pass; returns its last value. */
export async function waitFor(probe, seconds = 15) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
