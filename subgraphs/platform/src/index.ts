export { createPlatformSubgraph } from './server.js';
export { loadPlatformConfig, type PlatformConfig } from './config.js';
export { loadTypeDefs, typeDefsPath } from './schema.js';
export { recordEventNotifications, notificationSubjects, notificationKinds, severityOf, NOTIFICATION_CHANNEL, type NotifiableEvent, type RecordResult, type NotificationSubject, type NotificationKind } from './notifications/index.js';
