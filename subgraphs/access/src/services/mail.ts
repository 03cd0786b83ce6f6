import { uuidv7 } from '@gpuaas/db';
import type { MailSenderKind } from '../config.js';
import type { Db } from '../repositories/db.js';
import { insertMail } from '../repositories/mail-outbox.js';

export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/**
 * Where outgoing mail goes. `send` gets the transaction that made the change the mail is about, so a sender
 * that records mail (the outbox table, or a queue for a relay) makes it exist exactly when the change commits.
 */
export interface MailSender {
  send(db: Db, mail: OutgoingMail): Promise<void>;
}

/** Dev/test sink: mail lands in `access.mail_outbox`, where tests (and developers) read it. */
export function createOutboxMailSender(): MailSender {
  return {
    async send(db, mail) {
      await insertMail(db, { id: uuidv7(), to: mail.to, subject: mail.subject, body: mail.body });
    },
  };
}

export function createMailSender(kind: MailSenderKind): MailSender {
  switch (kind) {
    case 'outbox':
      return createOutboxMailSender();
  }
}
