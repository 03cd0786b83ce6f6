import { Migration } from '@gpuaas/db';

/**
 * The initial access schema. The SQL is the `-- schema: access` section of doc/architecture/db_schema.sql,
 * verbatim; the schema_drift gate fails when the two disagree. Later changes are new migrations, never edits here.
 */
export class Migration0001AccessInitial extends Migration {
  override up(): void {
    this.addSql(`CREATE SCHEMA IF NOT EXISTS access;

CREATE TABLE access.users (
  id uuid PRIMARY KEY,
  email text NOT NULL CONSTRAINT users_email_check CHECK (email = btrim(email) AND position('@' IN email) > 1),
  email_verified_at timestamptz,
  password_hash text,
  display_name text NOT NULL CONSTRAINT users_display_name_check CHECK (char_length(display_name) BETWEEN 1 AND 200),
  role text NOT NULL DEFAULT 'user' CONSTRAINT users_role_check CHECK (role IN ('user', 'admin')),
  status text NOT NULL DEFAULT 'active' CONSTRAINT users_status_check CHECK (status IN ('active', 'suspended')),
  suspended_at timestamptz,
  suspended_reason text,
  token_version integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_suspension_check CHECK ((status = 'suspended') = (suspended_at IS NOT NULL))
);
COMMENT ON COLUMN access.users.password_hash IS 'argon2id hash; NULL for users who only sign in through OIDC.';
COMMENT ON COLUMN access.users.token_version IS 'Embedded in access tokens; bumping it (suspension, password reset, role change) invalidates every token issued before.';
-- Email is unique case-insensitively without the citext extension (extensions are database-wide, not per schema).
CREATE UNIQUE INDEX users_email_key ON access.users (lower(email));
CREATE INDEX users_email_prefix_idx ON access.users (lower(email) text_pattern_ops);
CREATE INDEX users_created_idx ON access.users (created_at, id);
CREATE INDEX users_status_created_idx ON access.users (status, role, created_at, id);

CREATE TABLE access.oidc_identities (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
  provider text NOT NULL,
  subject text NOT NULL,
  email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz,
  CONSTRAINT oidc_identities_provider_subject_key UNIQUE (provider, subject)
);
CREATE INDEX oidc_identities_user_idx ON access.oidc_identities (user_id);

-- Rotating refresh tokens: each use issues a child in the same family; presenting a used token again revokes the
-- whole family (reuse detection). Only the SHA-256 of the token is stored.
CREATE TABLE access.refresh_tokens (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
  family_id uuid NOT NULL,
  parent_id uuid REFERENCES access.refresh_tokens (id) ON DELETE CASCADE,
  token_hash text NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz,
  revoked_reason text CONSTRAINT refresh_tokens_revoked_reason_check
    CHECK (revoked_reason IN ('logout', 'reuse_detected', 'user_suspended', 'password_reset', 'admin_revoked')),
  CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
  -- A token rotates at most once: two concurrent refreshes with the same token cannot both mint a child.
  CONSTRAINT refresh_tokens_parent_key UNIQUE (parent_id),
  CONSTRAINT refresh_tokens_expiry_check CHECK (expires_at > issued_at),
  CONSTRAINT refresh_tokens_revocation_check CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX refresh_tokens_family_idx ON access.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_live_idx ON access.refresh_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_expires_idx ON access.refresh_tokens (expires_at);

CREATE TABLE access.password_reset_tokens (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  CONSTRAINT password_reset_tokens_token_hash_key UNIQUE (token_hash),
  CONSTRAINT password_reset_tokens_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX password_reset_tokens_user_idx ON access.password_reset_tokens (user_id);

CREATE TABLE access.projects (
  id uuid PRIMARY KEY,
  name text NOT NULL CONSTRAINT projects_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
  slug text NOT NULL CONSTRAINT projects_slug_check CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  owner_id uuid NOT NULL REFERENCES access.users (id),
  personal boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  -- Slugs are never recycled, even after deletion, so an old link can never land in someone else's project.
  CONSTRAINT projects_slug_key UNIQUE (slug),
  CONSTRAINT projects_personal_not_deleted_check CHECK (NOT personal OR deleted_at IS NULL)
);
CREATE UNIQUE INDEX projects_one_personal_per_user_key ON access.projects (owner_id) WHERE personal;
CREATE INDEX projects_owner_idx ON access.projects (owner_id, created_at, id);
CREATE INDEX projects_created_idx ON access.projects (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE access.project_members (
  project_id uuid NOT NULL REFERENCES access.projects (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
  role text NOT NULL CONSTRAINT project_members_role_check CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, user_id)
);
-- Exactly one owner row per project (ownership transfer demotes before it promotes, in one transaction).
CREATE UNIQUE INDEX project_members_one_owner_key ON access.project_members (project_id) WHERE role = 'owner';
CREATE INDEX project_members_user_idx ON access.project_members (user_id, project_id);

CREATE TABLE access.ssh_keys (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES access.users (id) ON DELETE CASCADE,
  name text NOT NULL CONSTRAINT ssh_keys_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
  algorithm text NOT NULL CONSTRAINT ssh_keys_algorithm_check CHECK (algorithm IN (
    'ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
    'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com')),
  bits integer NOT NULL CONSTRAINT ssh_keys_bits_check CHECK (bits > 0),
  public_key text NOT NULL,
  fingerprint text NOT NULL CONSTRAINT ssh_keys_fingerprint_check CHECK (fingerprint LIKE 'SHA256:%'),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ssh_keys_user_fingerprint_key UNIQUE (user_id, fingerprint),
  CONSTRAINT ssh_keys_user_name_key UNIQUE (user_id, name)
);
CREATE INDEX ssh_keys_user_created_idx ON access.ssh_keys (user_id, created_at, id);

-- Token signing keys published at /.well-known/jwks.json. The newest non-retired key signs; older non-retired
-- keys stay in the JWKS until every token they signed has expired.
CREATE TABLE access.signing_keys (
  id uuid PRIMARY KEY,
  kid text NOT NULL,
  algorithm text NOT NULL CONSTRAINT signing_keys_algorithm_check CHECK (algorithm IN ('EdDSA', 'ES256', 'RS256')),
  public_jwk jsonb NOT NULL,
  private_key_pem text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz,
  CONSTRAINT signing_keys_kid_key UNIQUE (kid),
  CONSTRAINT signing_keys_public_jwk_check CHECK (jsonb_typeof(public_jwk) = 'object')
);
COMMENT ON COLUMN access.signing_keys.private_key_pem IS 'PKCS#8 PEM, encrypted with the configured key-encryption key when one is set; never served.';
CREATE INDEX signing_keys_live_idx ON access.signing_keys (created_at DESC) WHERE retired_at IS NULL;

-- Dev/test mail sink: with no SMTP configured, outgoing mail (password resets, notices) lands here.
CREATE TABLE access.mail_outbox (
  id uuid PRIMARY KEY,
  to_address text NOT NULL,
  subject text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mail_outbox_to_idx ON access.mail_outbox (lower(to_address), created_at DESC);
`);
  }
}
