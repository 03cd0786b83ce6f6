import { Migration } from '@gpuaas/db';

/**
 * Signals each new notification at commit, so every platform subgraph replica can push it to the recipient's
 * notificationAdded subscriptions from one LISTEN connection. doc/architecture/db_schema.sql's platform section
 * carries the same end state.
 */
export class Migration0003PlatformNotificationSignal extends Migration {
  override up(): void {
    this.addSql(`-- Tells listeners (the notificationAdded subscription) about each new notification; NOTIFY is delivered at commit,
-- and a redelivered event inserts nothing (ON CONFLICT DO NOTHING), so it signals nothing either.
CREATE FUNCTION platform.notifications_notify() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
    BEGIN
      PERFORM pg_notify('platform_notification_added', json_build_object('id', NEW.id, 'user_id', NEW.user_id)::text);
      RETURN NULL;
    END
  $fn$;
CREATE TRIGGER notifications_notify AFTER INSERT ON platform.notifications
  FOR EACH ROW EXECUTE FUNCTION platform.notifications_notify();
`);
  }
}
