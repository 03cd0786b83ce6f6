import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '@gpuaas/db';
import { seedDemoCatalog } from '../../subgraphs/compute/src/seed/demo-catalog.js';
import { restCall, type RestRequest } from './support/rest-client.js';
import { startAccessStack, type AccessStack } from './support/stack.js';

const PASSWORD = 'correct-horse-battery-staple-42';

let stack: AccessStack;
let userToken: string;
let adminToken: string;
let adminId: string;
let nodeId: string;

type Json = Record<string, any>;

const as = (token: string | undefined) => (operationId: string, method: string, path: string, request: Omit<RestRequest, 'token'> = {}) =>
  restCall(stack.restUrl, operationId, method, path, { ...request, token });

async function register(email: string): Promise<{ id: string; token: string }> {
  const answer = await restCall(stack.restUrl, 'registerPersonalAccount', 'POST', '/api/v1/auth/personal/register', {
    body: { email, password: PASSWORD, display_name: email.split('@')[0] },
  });
  const body = answer.json as { user: { id: string }; tokens: { access_token: string } };
  return { id: body.user.id, token: body.tokens.access_token };
}

async function login(email: string): Promise<string> {
  const answer = await restCall(stack.restUrl, 'loginPersonal', 'POST', '/api/v1/auth/personal/login', { body: { email, password: PASSWORD } });
  return (answer.json as { access_token: string }).access_token;
}

/** A live allocation straight in the table (fixture data): it holds `slotId` and runs `osImageId`. */
async function insertLiveAllocation(options: { slotId?: string; osImageId?: string; state?: string }): Promise<string> {
  const id = uuidv7();
  const slot = options.slotId
    ? (await stack.db.query<{ profile_id: string; region_id: string }>(
        'SELECT s.profile_id, n.region_id FROM compute.slots s JOIN compute.nodes n ON n.id = s.node_id WHERE s.id = $1',
        [options.slotId],
      )).rows[0]!
    : (await stack.db.query<{ profile_id: string; region_id: string }>('SELECT p.id AS profile_id, r.id AS region_id FROM compute.slice_profiles p, compute.regions r LIMIT 1')).rows[0]!;
  await stack.db.query(
    `INSERT INTO compute.allocations (id, project_id, user_id, name, profile_id, region_id, os_image_id, node_id, slot_id, state, hourly_amount_minor, currency)
     VALUES ($1, $2, $3, 'fixture', $4, $5, $6, $7, $8, $9, 100, 'USD')`,
    [id, randomUUID(), randomUUID(), slot.profile_id, slot.region_id, options.osImageId ?? randomUUID(), options.slotId ? nodeId : null, options.slotId ?? null, options.state ?? (options.slotId ? 'provisioning' : 'requested')],
  );
  return id;
}

async function auditRows(action: string, targetId: string): Promise<Json[]> {
  const { rows } = await stack.db.query('SELECT * FROM infra.audit_logs WHERE action = $1 AND target_id = $2', [action, targetId]);
  return rows;
}

beforeAll(async () => {
  stack = await startAccessStack({ oidcAccounts: [] });
  const client = await stack.db.connect();
  try {
    nodeId = (await seedDemoCatalog(client)).nodeId;
  } finally {
    client.release();
  }
  userToken = (await register('catalog.user@example.com')).token;
  const admin = await register('catalog.admin@example.com');
  adminId = admin.id;
  await stack.promoteToAdmin('catalog.admin@example.com');
  adminToken = await login('catalog.admin@example.com');
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('the GPU catalog', () => {
  const gpus = (query = '') => as(userToken)('listCatalogGpus', 'GET', `/api/v1/catalog/gpus${query}`);
  const offer = (page: Json, model: string, profile: string, region: string) =>
    (page.data as Json[]).find((m) => m.code === model)?.profiles.find((p: Json) => p.name === profile)?.offers.find((o: Json) => o.region === region);

  it('lists models by code with their profiles, prices in force and live availability', async () => {
    const answer = await gpus();
    expect(answer.status, answer.text).toBe(200);
    const page = answer.json as Json;
    expect(page.data.map((m: Json) => m.code)).toEqual(['a100-80gb', 'h100-80gb', 'l40s-48gb']);
    const h100 = page.data.find((m: Json) => m.code === 'h100-80gb');
    expect(h100).toMatchObject({ vendor: 'nvidia', memory_bytes: 80 * 1024 ** 3, mig_capable: true });
    expect(h100.profiles.map((p: Json) => p.name)).toEqual(['1g.10gb', '2g.20gb', '3g.40gb', '4g.40gb', '7g.80gb', 'whole']);
    const whole = h100.profiles.find((p: Json) => p.name === 'whole');
    expect(whole).toMatchObject({ kind: 'whole', compute_sevenths: 7, available_slots: 1 });
    expect(offer(page, 'h100-80gb', 'whole', 'us-east')).toEqual({ region: 'us-east', hourly_price: { amount_minor: 299, currency: 'USD' }, available_slots: 1 });
    expect(offer(page, 'h100-80gb', 'whole', 'eu-west')).toMatchObject({ available_slots: 0 });
    expect(offer(page, 'h100-80gb', '2g.20gb', 'us-east')).toMatchObject({ available_slots: 2 });
    expect(h100.profiles.find((p: Json) => p.name === '1g.10gb')).toMatchObject({ kind: 'mig', available_slots: 0 });
    expect(page.next_cursor).toBeNull();
  });

  it('uses the latest price that has taken effect', async () => {
    const { rows } = await stack.db.query<{ profile_id: string; region_id: string }>(
      `SELECT p.id AS profile_id, r.id AS region_id FROM compute.slice_profiles p JOIN compute.gpu_models g ON g.id = p.gpu_model_id, compute.regions r
       WHERE g.code = 'l40s-48gb' AND p.name = 'whole' AND r.code = 'eu-west'`,
    );
    const { profile_id, region_id } = rows[0]!;
    await stack.db.query(
      `INSERT INTO compute.prices (id, profile_id, region_id, hourly_amount_minor, currency, effective_from) VALUES
       ($1, $3, $4, 109, 'USD', now() - interval '1 minute'), ($2, $3, $4, 999, 'USD', now() + interval '1 day')`,
      [uuidv7(), uuidv7(), profile_id, region_id],
    );
    expect(offer((await gpus('?model=l40s-48gb')).json as Json, 'l40s-48gb', 'whole', 'eu-west')).toMatchObject({ hourly_price: { amount_minor: 109, currency: 'USD' } });
  });

  it('narrows profiles by region, model and memory, leaving out models with none', async () => {
    const big = (await gpus('?min_memory=' + 48 * 1024 ** 3)).json as Json;
    for (const model of big.data) for (const profile of model.profiles) expect(profile.memory_bytes).toBeGreaterThanOrEqual(48 * 1024 ** 3);
    expect(big.data.find((m: Json) => m.code === 'h100-80gb').profiles.map((p: Json) => p.name)).toEqual(['7g.80gb', 'whole']);

    const eu = (await gpus('?region=eu-west&model=h100-80gb')).json as Json;
    expect(eu.data).toHaveLength(1);
    for (const profile of eu.data[0].profiles) expect(profile.offers.map((o: Json) => o.region)).toEqual(['eu-west']);

    expect(((await gpus('?min_memory=' + 200 * 1024 ** 3)).json as Json).data).toEqual([]);
    expect(((await gpus('?region=nowhere-1')).json as Json).data).toEqual([]);
  });

  it('pages models with a cursor', async () => {
    const first = (await gpus('?limit=2')).json as Json;
    expect(first.data.map((m: Json) => m.code)).toEqual(['a100-80gb', 'h100-80gb']);
    const second = (await gpus(`?limit=2&cursor=${first.next_cursor}`)).json as Json;
    expect(second.data.map((m: Json) => m.code)).toEqual(['l40s-48gb']);
    expect(second.next_cursor).toBeNull();
    const bad = await gpus('?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
  });

  it('counts a slot as taken while a live allocation holds it, and free again once it is released', async () => {
    const slot = (
      await stack.db.query<{ id: string }>(
        `SELECT s.id FROM compute.slots s JOIN compute.slice_profiles p ON p.id = s.profile_id WHERE s.node_id = $1 AND p.name = '2g.20gb' LIMIT 1`,
        [nodeId],
      )
    ).rows[0]!;
    const regionSlots = async () =>
      ((await as(userToken)('listCatalogRegions', 'GET', '/api/v1/catalog/regions')).json as Json).data.find((r: Json) => r.code === 'us-east').available_slots;
    const before = await regionSlots();
    expect(before).toBe(4);

    const allocationId = await insertLiveAllocation({ slotId: slot.id });
    expect(offer((await gpus()).json as Json, 'h100-80gb', '2g.20gb', 'us-east')).toMatchObject({ available_slots: 1 });
    expect(await regionSlots()).toBe(3);

    await stack.db.query("UPDATE compute.allocations SET state = 'failed', failed_at = now() WHERE id = $1", [allocationId]);
    expect(offer((await gpus()).json as Json, 'h100-80gb', '2g.20gb', 'us-east')).toMatchObject({ available_slots: 2 });
    expect(await regionSlots()).toBe(4);
  });

  it('counts nothing on nodes that are not active, nor in a region in maintenance', async () => {
    await stack.db.query("UPDATE compute.nodes SET state = 'cordoned' WHERE id = $1", [nodeId]);
    expect(offer((await gpus()).json as Json, 'h100-80gb', 'whole', 'us-east')).toMatchObject({ available_slots: 0 });
    await stack.db.query("UPDATE compute.nodes SET state = 'active' WHERE id = $1", [nodeId]);

    await stack.db.query("UPDATE compute.regions SET status = 'maintenance' WHERE code = 'us-east'");
    try {
      expect(offer((await gpus()).json as Json, 'h100-80gb', 'whole', 'us-east')).toMatchObject({ available_slots: 0 });
      const maintenance = (await as(userToken)('listCatalogRegions', 'GET', '/api/v1/catalog/regions?status=maintenance')).json as Json;
      expect(maintenance.data).toEqual([
        { id: expect.any(String), code: 'us-east', name: 'US East', location: 'Ashburn, Virginia, US', status: 'maintenance', available_slots: 0 },
      ]);
    } finally {
      await stack.db.query("UPDATE compute.regions SET status = 'active' WHERE code = 'us-east'");
    }
  });

  it('does not list retired regions nor their offers', async () => {
    const id = uuidv7();
    await stack.db.query("INSERT INTO compute.regions (id, code, name, location, status) VALUES ($1, 'old-1', 'Old', 'Nowhere', 'retired')", [id]);
    const regions = (await as(userToken)('listCatalogRegions', 'GET', '/api/v1/catalog/regions')).json as Json;
    expect(regions.data.map((r: Json) => r.code)).toEqual(['eu-west', 'us-east']);
  });

  it('needs a signed-in caller', async () => {
    expect((await as(undefined)('listCatalogGpus', 'GET', '/api/v1/catalog/gpus')).status).toBe(401);
    expect((await as(undefined)('listCatalogRegions', 'GET', '/api/v1/catalog/regions')).status).toBe(401);
  });
});

describe('OS images', () => {
  let imageId: string;
  const admin = () => as(adminToken);
  const user = () => as(userToken);
  const create = (body: Json) => admin()('adminCreateOsImage', 'POST', '/api/v1/admin/os-images', { body });
  const base = { name: 'Ubuntu 24.04 CUDA', version: '2026.12', family: 'ubuntu', image_ref: 'images/ubuntu-24.04-cuda-12.8:2026.12', cuda_version: '12.8', driver_version: '570.86.15' };

  it('lets an operator add an image, audited in the same transaction', async () => {
    const answer = await create(base);
    expect(answer.status).toBe(201);
    const image = answer.json as Json;
    imageId = image.id;
    expect(image).toMatchObject({ ...base, is_default: false, status: 'active', live_allocation_count: 0 });
    const audit = await auditRows('os_image.create', imageId);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ domain: 'platform', actor_kind: 'admin', actor_id: adminId, target_type: 'os_image' });
    expect((await create(base)).status).toBe(409);
    expect(((await create(base)).json as Json).code).toBe('already_exists');
  });

  it('refuses people who are not operators', async () => {
    expect((await user()('adminCreateOsImage', 'POST', '/api/v1/admin/os-images', { body: { ...base, version: '2027.01' } })).status).toBe(403);
    expect((await user()('adminListOsImages', 'GET', '/api/v1/admin/os-images')).status).toBe(403);
    expect((await user()('adminDeleteOsImage', 'DELETE', `/api/v1/admin/os-images/${imageId}`)).status).toBe(403);
    expect((await as(undefined)('listCatalogOsImages', 'GET', '/api/v1/catalog/os-images')).status).toBe(401);
  });

  it('moves the default flag and refuses a deprecated default', async () => {
    const first = (await create({ ...base, name: 'Rocky', family: 'rocky', version: '9.4', is_default: true })).json as Json;
    const second = (await create({ ...base, name: 'Debian', family: 'debian', version: '12', is_default: true })).json as Json;
    expect(second.is_default).toBe(true);
    expect(((await admin()('adminGetOsImage', 'GET', `/api/v1/admin/os-images/${first.id}`)).json as Json).is_default).toBe(false);
    const refused = await create({ ...base, version: '2026.13', is_default: true, status: 'deprecated' });
    expect(refused.status).toBe(422);
    const unflag = await admin()('adminUpdateOsImage', 'PATCH', `/api/v1/admin/os-images/${second.id}`, { body: { is_default: false } });
    expect(unflag.status).toBe(422);
    const deprecateDefault = await admin()('adminUpdateOsImage', 'PATCH', `/api/v1/admin/os-images/${second.id}`, { body: { status: 'deprecated' } });
    expect(deprecateDefault.status).toBe(422);
    expect((await admin()('adminDeleteOsImage', 'DELETE', `/api/v1/admin/os-images/${second.id}`)).status).toBe(409);
  });

  it('lists the catalog default first, then by family, name and newest version, with a cursor', async () => {
    await create({ ...base, version: '2025.06' });
    const all = (await user()('listCatalogOsImages', 'GET', '/api/v1/catalog/os-images')).json as Json;
    expect(all.data.map((i: Json) => `${i.family}/${i.version}`)).toEqual(['debian/12', 'rocky/9.4', 'ubuntu/2026.12', 'ubuntu/2025.06']);
    expect(all.data[0]).not.toHaveProperty('image_ref');
    const one = (await user()('listCatalogOsImages', 'GET', '/api/v1/catalog/os-images?limit=3')).json as Json;
    const rest = (await user()('listCatalogOsImages', 'GET', `/api/v1/catalog/os-images?limit=3&cursor=${one.next_cursor}`)).json as Json;
    expect([...one.data, ...rest.data].map((i: Json) => i.id)).toEqual(all.data.map((i: Json) => i.id));
    expect(rest.next_cursor).toBeNull();
    const ubuntu = (await user()('listCatalogOsImages', 'GET', '/api/v1/catalog/os-images?family=ubuntu')).json as Json;
    expect(ubuntu.data).toHaveLength(2);
  });

  it('edits and deprecates an image, auditing the changed fields', async () => {
    const answer = await admin()('adminUpdateOsImage', 'PATCH', `/api/v1/admin/os-images/${imageId}`, { body: { status: 'deprecated', driver_version: null } });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: imageId, status: 'deprecated', driver_version: null, cuda_version: '12.8' });
    const audit = await auditRows('os_image.update', imageId);
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ changed: ['driver_version', 'status'], before: { status: 'active', driver_version: '570.86.15' }, after: { status: 'deprecated', driver_version: null } });
    const deprecated = (await user()('listCatalogOsImages', 'GET', '/api/v1/catalog/os-images?status=deprecated')).json as Json;
    expect(deprecated.data.map((i: Json) => i.id)).toEqual([imageId]);
  });

  it('shows the v3 view with a display name', async () => {
    const view = (await user()('v3GetPlatformOsImage', 'GET', `/api/v3/platform/os-images/${imageId}`)).json as Json;
    expect(view.display_name).toBe('Ubuntu 24.04 CUDA 2026.12 (CUDA 12.8)');
    const list = (await user()('v3ListPlatformOsImages', 'GET', '/api/v3/platform/os-images?family=ubuntu')).json as Json;
    expect(list.data.map((i: Json) => i.id)).toContain(imageId);
  });

  it('publishes os_image_of for compute', async () => {
    const { rows } = await stack.db.query('SELECT * FROM platform.os_image_of($1)', [imageId]);
    expect(rows).toEqual([{ id: imageId, name: base.name, version: base.version, status: 'deprecated', image_ref: base.image_ref }]);
  });

  it('refuses to delete an image live allocations run, then deletes it once they are gone', async () => {
    const allocationId = await insertLiveAllocation({ osImageId: imageId });
    const detail = (await admin()('adminGetOsImage', 'GET', `/api/v1/admin/os-images/${imageId}`)).json as Json;
    expect(detail.live_allocation_count).toBe(1);
    const refused = await admin()('adminDeleteOsImage', 'DELETE', `/api/v1/admin/os-images/${imageId}`);
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ code: 'conflict', details: { live_allocation_count: 1 } });

    await stack.db.query("UPDATE compute.allocations SET state = 'failed', failed_at = now() WHERE id = $1", [allocationId]);
    expect((await admin()('adminDeleteOsImage', 'DELETE', `/api/v1/admin/os-images/${imageId}`)).status).toBe(204);
    expect(await auditRows('os_image.delete', imageId)).toHaveLength(1);
    expect((await admin()('adminGetOsImage', 'GET', `/api/v1/admin/os-images/${imageId}`)).status).toBe(404);
    expect((await user()('getCatalogOsImage', 'GET', `/api/v1/catalog/os-images/${imageId}`)).status).toBe(404);
    expect((await admin()('adminDeleteOsImage', 'DELETE', `/api/v1/admin/os-images/${imageId}`)).status).toBe(404);
    const listed = (await admin()('adminListOsImages', 'GET', '/api/v1/admin/os-images')).json as Json;
    expect(listed.data.map((i: Json) => i.id)).not.toContain(imageId);
    const { rows } = await stack.db.query('SELECT status FROM platform.os_image_of($1)', [imageId]);
    expect(rows).toEqual([{ status: 'deleted' }]);
  });
});
