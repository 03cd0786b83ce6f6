export {
  createTerminalHost,
  relayUrlOf,
  TerminalTaskError,
  type OpenTerminalResult,
  type OpenTerminalTask,
  type RelayConnection,
  type TerminalHost,
  type TerminalHostOptions,
} from './open-terminal.js';
export { registerTerminal } from './register.js';
export { allocationDir } from './shell.js';
export { parseControl, TERMINAL_PROTOCOL, type ControlMessage } from './framing.js';
