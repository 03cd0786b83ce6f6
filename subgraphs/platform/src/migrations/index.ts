import type { MigrationSet } from '@gpuaas/db';
import { Migration0001PlatformInitial } from './0001-initial.js';
import { Migration0002PlatformReadInterface } from './0002-read-interface.js';
import { Migration0003PlatformNotificationSignal } from './0003-notification-signal.js';

/** The platform schema's migrations in the order they apply (tracked in platform.mikro_orm_migrations). */
export const migrations: MigrationSet['migrations'] = [
  { name: '0001-initial', class: Migration0001PlatformInitial },
  { name: '0002-read-interface', class: Migration0002PlatformReadInterface },
  { name: '0003-notification-signal', class: Migration0003PlatformNotificationSignal },
];
