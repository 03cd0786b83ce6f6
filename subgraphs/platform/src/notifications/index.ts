export { recordEventNotifications, type NotifiableEvent, type RecordResult } from './record.js';
export { notificationSubjects, notificationKinds, severityOf, type NotificationSubject, type NotificationKind } from './messages.js';
export { NOTIFICATION_CHANNEL } from './listener.js';
