export * from './passwords.js';
export { isCommonPassword } from './common-passwords.js';
export * from './signing-keys.js';
export * from './jwks.js';
export * from './access-tokens.js';
export * from './refresh-tokens.js';
export * from './identity-assertion.js';
export * from './revocation.js';
export * from './ssh-keys.js';
