import { recordAudit, uuidv7, withTransaction } from '@gpuaas/db';
import { AppError, Conflict, Forbidden, NotFound, Validation } from '@gpuaas/errors';
import { isUuid, pageRequest, toPage, type Page } from '../pagination.js';
import { isUniqueViolation } from '../repositories/db.js';
import { deleteAllMembers, findOwner, insertMember, listMembers, type MemberView } from '../repositories/project-members.js';
import {
  findProjectForAdmin,
  findProjectForMember,
  insertProject,
  listProjectsForMember,
  softDeleteProject,
  updateProject as updateProjectRow,
  type ProjectReferenceView,
  type ProjectRole,
  type ProjectView,
} from '../repositories/projects.js';
import { requireActor } from './actor.js';
import type { AccessDeps, Caller } from './deps.js';
import { canDeleteProject, canEditSettings, unprocessable } from './project-roles.js';
import { Issues, projectSlug, text } from './validation.js';

const projectNotFound = () => NotFound('Project');

function slugTaken(): AppError {
  return new AppError('already_exists', 'Another project already uses this slug', { fields: [{ field: 'body.slug', message: 'is taken' }] });
}

export interface ProjectFilter {
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
  readonly personal?: boolean | null | undefined;
  readonly role?: ProjectRole | null | undefined;
  readonly q?: string | null | undefined;
}

/** Projects `userId` belongs to, newest first. The caller decided `userId` may be listed (self or an operator). */
export async function listProjectsOf(deps: AccessDeps, userId: string, filter: ProjectFilter): Promise<Page<ProjectView>> {
  const page = pageRequest(filter.first, filter.after);
  if (filter.q !== undefined && filter.q !== null && (filter.q.length < 1 || filter.q.length > 100)) {
    throw Validation([{ field: 'query.q', message: 'must be 1 to 100 characters long' }]);
  }
  const rows = await listProjectsForMember(
    deps.pool,
    userId,
    { personal: filter.personal ?? undefined, role: filter.role ?? undefined, q: filter.q ?? undefined },
    page,
  );
  return toPage(rows, page, (row) => ({ ts: row.cursorTs, id: row.id }));
}

export async function listMyProjects(deps: AccessDeps, caller: Caller, filter: ProjectFilter): Promise<Page<ProjectView>> {
  const actor = await requireActor(deps, caller);
  return listProjectsOf(deps, actor.userId, filter);
}

/** A project the caller is a member of; anything else (missing, deleted, someone else's) is the same `not_found`. */
export async function getProject(deps: AccessDeps, caller: Caller, projectId: string): Promise<ProjectView> {
  const actor = await requireActor(deps, caller);
  const project = isUuid(projectId) ? await findProjectForMember(deps.pool, actor.userId, projectId) : null;
  if (!project) throw projectNotFound();
  return project;
}

/**
 * Resolves a Project reference from another subgraph (an allocation's project): members see their projects; a
 * platform admin, who reads every tenant's objects through the admin views, sees any project without a role.
 */
export async function resolveProjectReference(deps: AccessDeps, caller: Caller, projectId: string): Promise<ProjectReferenceView> {
  const actor = await requireActor(deps, caller);
  if (!isUuid(projectId)) throw projectNotFound();
  const project = actor.isAdmin ? await findProjectForAdmin(deps.pool, actor.userId, projectId) : await findProjectForMember(deps.pool, actor.userId, projectId);
  if (!project) throw projectNotFound();
  return project;
}

export async function createProject(deps: AccessDeps, caller: Caller, input: { name: string; slug?: string | null | undefined }): Promise<ProjectView> {
  const actor = await requireActor(deps, caller);
  const issues = new Issues();
  const name = text(issues, input.name, 'body.name', 100);
  const slug = input.slug === undefined || input.slug === null ? null : projectSlug(issues, input.slug);
  issues.throwIfAny();
  const projectId = uuidv7();
  try {
    return await withTransaction(deps.pool, async (client) => {
      await insertProject(client, actor.userId, { id: projectId, name, slug, personal: false });
      await insertMember(client, projectId, actor.userId, 'owner');
      return (await findProjectForMember(client, actor.userId, projectId)) as ProjectView;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'projects_slug_key')) throw slugTaken();
    throw error;
  }
}

export interface ProjectUpdate {
  readonly id: string;
  readonly name?: string | null | undefined;
  readonly slug?: string | null | undefined;
  readonly clearSlug?: boolean | null | undefined;
}

/** Owner or admin renames the project or changes its slug; audited. Personal projects never take a slug. */
export async function updateProject(deps: AccessDeps, caller: Caller, input: ProjectUpdate): Promise<ProjectView> {
  const actor = await requireActor(deps, caller);
  const issues = new Issues();
  const name = input.name === undefined || input.name === null ? undefined : text(issues, input.name, 'body.name', 100);
  const newSlug = input.slug === undefined || input.slug === null ? undefined : projectSlug(issues, input.slug);
  if (newSlug !== undefined && input.clearSlug) issues.add('body.slug', 'give a new slug or clear it, not both');
  if (name === undefined && newSlug === undefined && !input.clearSlug) issues.add('body', 'must change the name or the slug');
  issues.throwIfAny();
  if (!isUuid(input.id)) throw projectNotFound();
  const slug = input.clearSlug ? null : newSlug;

  try {
    return await withTransaction(deps.pool, async (client) => {
      const before = await findProjectForMember(client, actor.userId, input.id, { lock: true });
      if (!before) throw projectNotFound();
      if (!canEditSettings(before.role)) throw Forbidden('Only the project owner or an admin may change its settings');
      if (before.personal && typeof slug === 'string') throw unprocessable('A personal project cannot have a slug');
      await updateProjectRow(client, before.id, { name, slug: before.personal ? undefined : slug });
      const after = (await findProjectForMember(client, actor.userId, before.id)) as ProjectView;
      await recordAudit(client, {
        domain: 'access',
        actorKind: 'user',
        actorId: actor.userId,
        action: 'project.update',
        targetType: 'project',
        targetId: before.id,
        correlationId: caller.correlationId,
        details: { before: { name: before.name, slug: before.slug }, after: { name: after.name, slug: after.slug } },
      });
      return after;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'projects_slug_key')) throw slugTaken();
    throw error;
  }
}

/**
 * Owner only; the personal project stays. The project is soft-deleted (billing history keeps referring to it) and
 * its memberships go with it. Live allocations are compute's to know; that check joins when compute can answer it.
 */
export async function deleteProject(deps: AccessDeps, caller: Caller, projectId: string): Promise<boolean> {
  const actor = await requireActor(deps, caller);
  if (!isUuid(projectId)) throw projectNotFound();
  return withTransaction(deps.pool, async (client) => {
    const project = await findProjectForMember(client, actor.userId, projectId, { lock: true });
    if (!project) throw projectNotFound();
    if (!canDeleteProject(project.role)) throw Forbidden('Only the project owner may delete it');
    if (project.personal) throw Conflict('A personal project cannot be deleted');
    await softDeleteProject(client, actor.userId, project.id);
    const removedMembers = await deleteAllMembers(client, project.id);
    await recordAudit(client, {
      domain: 'access',
      actorKind: 'user',
      actorId: actor.userId,
      action: 'project.delete',
      targetType: 'project',
      targetId: project.id,
      correlationId: caller.correlationId,
      details: { name: project.name, slug: project.slug, removed_members: removedMembers },
    });
    return true;
  });
}

/**
 * Members of a project node already authorised when it was produced (a member's read, or an operator's listing of
 * a user's projects); owner first, then by join time.
 */
export async function membersOf(
  deps: AccessDeps,
  projectId: string,
  filter: { first?: number | null | undefined; after?: string | null | undefined; role?: ProjectRole | null | undefined },
): Promise<Page<MemberView>> {
  const page = pageRequest(filter.first, filter.after);
  const rows = await listMembers(deps.pool, projectId, { role: filter.role ?? undefined }, page);
  return toPage(rows, page, (row) => ({ rank: row.rank, ts: row.cursorTs, id: row.userId }));
}

export async function ownerOf(deps: AccessDeps, projectId: string): Promise<MemberView> {
  const owner = await findOwner(deps.pool, projectId);
  // The one-owner index makes this unreachable; say so loudly if it ever is not.
  if (!owner) throw new AppError('internal_error', 'The project has no owner', { project_id: projectId });
  return owner;
}
