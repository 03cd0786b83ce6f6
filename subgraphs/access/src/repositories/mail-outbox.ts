import type { Db } from './db.js';

export async function insertMail(db: Db, mail: { id: string; to: string; subject: string; body: string }): Promise<void> {
  await db.query('INSERT INTO access.mail_outbox (id, to_address, subject, body) VALUES ($1, $2, $3, $4)', [
    mail.id,
    mail.to,
    mail.subject,
    mail.body,
  ]);
}
