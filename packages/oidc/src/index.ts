export * from './providers-config.js';
export * from './oidc-client.js';
export * from './oidc-errors.js';
export * from './login-state-store.js';
