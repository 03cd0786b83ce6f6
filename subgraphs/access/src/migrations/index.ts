import type { MigrationSet } from '@gpuaas/db';
import { Migration0001AccessInitial } from './0001-initial.js';
import { Migration0002AccessLoginTrackingAndOptionalSlugs } from './0002-login-tracking-and-optional-slugs.js';
import { Migration0003AccessReadInterface } from './0003-read-interface.js';
import { Migration0004AccessProjectBillingMembers } from './0004-project-billing-members.js';

/** The access schema's migrations in the order they apply (tracked in access.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [
  { name: '0001-initial', class: Migration0001AccessInitial },
  { name: '0002-login-tracking-and-optional-slugs', class: Migration0002AccessLoginTrackingAndOptionalSlugs },
  { name: '0003-read-interface', class: Migration0003AccessReadInterface },
  { name: '0004-project-billing-members', class: Migration0004AccessProjectBillingMembers },
];
