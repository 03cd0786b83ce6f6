export { attachTerminalRelay, type TerminalRelay, type TerminalRelayOptions } from './relay.js';
