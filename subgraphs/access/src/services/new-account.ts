import { uuidv7 } from '@gpuaas/db';
import { AppError } from '@gpuaas/errors';
import { isUniqueViolation, type Db } from '../repositories/db.js';
import { insertMember } from '../repositories/project-members.js';
import { insertProject } from '../repositories/projects.js';
import { insertUser } from '../repositories/users.js';

export interface NewAccount {
  readonly email: string;
  readonly displayName: string;
  readonly passwordHash: string | null;
  readonly emailVerified: boolean;
}

/**
 * A user with their personal project (owner membership), inside the caller's transaction: a user never exists
 * without one. A taken email (compared case-insensitively) is `already_exists` on `body.email`.
 */
export async function createAccount(db: Db, account: NewAccount): Promise<string> {
  const userId = uuidv7();
  try {
    await insertUser(db, { id: userId, ...account });
  } catch (error) {
    if (isUniqueViolation(error, 'users_email_key')) {
      throw new AppError('already_exists', 'An account with this email already exists', {
        fields: [{ field: 'body.email', message: 'is already registered' }],
      });
    }
    throw error;
  }
  const projectId = uuidv7();
  await insertProject(db, userId, { id: projectId, name: account.displayName, slug: null, personal: true });
  await insertMember(db, projectId, userId, 'owner');
  return userId;
}
