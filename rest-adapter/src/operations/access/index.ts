import type { OperationHandlers } from '../registry.js';
import { authHandlers } from './auth.js';
import { meHandlers } from './me.js';
import { projectHandlers } from './projects.js';

/** Every `access`-tagged operation under /api/v1 (the admin and v3 views have their own groups). */
export const accessHandlers: OperationHandlers = { ...authHandlers, ...meHandlers, ...projectHandlers };
