export { createBillingSubgraph } from './server.js';
export { loadBillingConfig, type BillingConfig } from './config.js';
export { loadTypeDefs, subgraphDir } from './schema.js';
export { postLedgerEntries, walletBalance, type LedgerPosting } from './ledger/post.js';
export type { LedgerEntry } from './ledger/entries.js';
export { BILLING_CONSUMER, billingWorkerSubjects, handleMeteringEvent, type MeteringDeps } from './metering/events.js';
export { runMeteringTick, type TickResult } from './metering/tick.js';
