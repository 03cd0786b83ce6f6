/** What other hosts (the rest-adapter's terminal relay, the nodes area) call of the terminal area. */
export { openTerminalSession, requestAgentAttach, endTerminalSession, agentTerminalPath, browserTerminalPath, type OpenedTerminalSession, type TerminalDeps } from './service.js';
export { findAttachableSession } from './repository.js';
export { applyTerminalTaskOutcome, AGENT_FAILED_CLOSE_CODE } from './task-outcomes.js';
export { terminalSubjects, encodeFrame, decodeFrame, FrameKind } from './subjects.js';
export { TERMINAL_PROTOCOL } from './tokens.js';
export { terminalTokenHash } from './tokens.js';
