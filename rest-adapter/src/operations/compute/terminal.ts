import { AppError } from '@gpuaas/errors';
import type { OperationHandlers } from '../registry.js';
import { documentsBeside, field, graphqlOperation, inputFrom } from '../graphql-operation.js';

const doc = documentsBeside(import.meta.url);

/**
 * Browser terminal tokens (POST /api/v1/allocations/{id}/terminal-token). The websockets themselves (the
 * browser's `/terminal/{id}` and the agent's `/internal/v1/terminal/{id}`) are served by rest-adapter/src/terminal
 * on the upgrade path.
 */
export const terminalHandlers = {
  createAllocationTerminalToken: graphqlOperation({
    document: doc('create-allocation-terminal-token'),
    variables: inputFrom({ id: 'id' }),
    respond: field('createAllocationTerminalToken', 201),
  }),
} satisfies OperationHandlers;

/** Registered beside the terminal relay (server.ts): a plain GET of the agent's websocket path lands here. */
export const terminalUpgradeHandlers = {
  openAgentTerminalRelay: async () => {
    throw new AppError('validation_error', 'This endpoint only accepts a websocket upgrade', {
      fields: [{ field: 'header.upgrade', message: 'must be websocket' }],
    });
  },
} satisfies OperationHandlers;
