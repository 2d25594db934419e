-- Tracking schema of the connector on Azure SQL Database, version 4.
--
-- It mirrors the SQLite tables of lib/tracking/schema.ts. Timestamps are datetime2(3) in UTC.
-- Entity versions are sql_variant, because a version is a number or a string and the
-- connector compares numbers as numbers. The script is idempotent: run it again after a
-- failure, or on a database it has already set up.
--
-- Run it as the server's Microsoft Entra admin with sqlcmd, which sets FunctionAppName:
--   sqlcmd -S <server>.database.windows.net -d tracking --authentication-method ActiveDirectoryDefault \
--     -v FunctionAppName=<function app name> -i infra/sql/tracking-schema.sql
-- The server has public network access off. docs/deploy.md describes how to reach it.

SET XACT_ABORT ON;
GO

IF NOT EXISTS (SELECT 1 FROM sys.change_tracking_databases WHERE database_id = DB_ID())
  ALTER DATABASE CURRENT SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 7 DAYS, AUTO_CLEANUP = ON);
GO

BEGIN TRANSACTION;

IF OBJECT_ID(N'dbo.messages', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.messages (
    message_id nvarchar(200) NOT NULL CONSTRAINT messages_pk PRIMARY KEY,
    connector_id nvarchar(100) NOT NULL,
    dedup_key_hash nvarchar(128) NULL,
    received_at datetime2(3) NOT NULL,
    raw_blob_name nvarchar(1024) NULL,
    size_in_bytes bigint NULL,
    sha256 char(64) NULL,
    content_type nvarchar(256) NULL,
    claim_state nvarchar(16) NOT NULL CONSTRAINT messages_claim_state_check CHECK (claim_state IN (N'receiving', N'accepted')),
    claim_token nvarchar(100) NOT NULL,
    claimed_at datetime2(3) NOT NULL,
    entity_type nvarchar(200) NULL,
    entity_key nvarchar(400) NULL,
    entity_version sql_variant NULL,
    content_encoding nvarchar(32) NULL,
    configuration_version nvarchar(100) NULL,
    forwarded_headers nvarchar(max) NULL,
    outcome nvarchar(32) NULL,
    outcome_reason nvarchar(max) NULL,
    completed_at datetime2(3) NULL,
    replay_of nvarchar(200) NULL
  );
  CREATE INDEX messages_by_received_at ON dbo.messages (received_at);
  CREATE INDEX messages_by_connector ON dbo.messages (connector_id, received_at);
  CREATE INDEX messages_by_outcome ON dbo.messages (outcome, received_at);
  CREATE INDEX messages_by_dedup_key ON dbo.messages (dedup_key_hash);
  CREATE INDEX messages_by_entity ON dbo.messages (entity_key, received_at);
  CREATE INDEX messages_by_replay_of ON dbo.messages (replay_of);
END;

IF OBJECT_ID(N'dbo.attempts', N'U') IS NULL
  CREATE TABLE dbo.attempts (
    message_id nvarchar(200) NOT NULL,
    destination_id nvarchar(100) NOT NULL,
    attempt_number int NOT NULL,
    started_at datetime2(3) NOT NULL,
    outcome nvarchar(16) NOT NULL CONSTRAINT attempts_outcome_check CHECK (outcome IN (N'delivered', N'retryable', N'permanent')),
    status_code int NULL,
    error nvarchar(max) NULL,
    duration_in_milliseconds bigint NOT NULL,
    response_body_start nvarchar(max) NULL,
    CONSTRAINT attempts_pk PRIMARY KEY (message_id, destination_id, attempt_number)
  );

IF OBJECT_ID(N'dbo.audit', N'U') IS NULL
  CREATE TABLE dbo.audit (
    audit_id bigint IDENTITY(1, 1) NOT NULL CONSTRAINT audit_pk PRIMARY KEY,
    message_id nvarchar(200) NOT NULL,
    at datetime2(3) NOT NULL,
    step nvarchar(100) NOT NULL,
    step_key nvarchar(200) NOT NULL CONSTRAINT audit_step_key_default DEFAULT N'',
    detail nvarchar(max) NOT NULL,
    CONSTRAINT audit_step_unique UNIQUE (message_id, step, step_key)
  );

IF OBJECT_ID(N'dbo.entity_state', N'U') IS NULL
  CREATE TABLE dbo.entity_state (
    connector_id nvarchar(100) NOT NULL,
    entity_type nvarchar(200) NOT NULL,
    entity_key nvarchar(400) NOT NULL,
    version sql_variant NULL,
    last_message_id nvarchar(200) NOT NULL,
    updated_at datetime2(3) NOT NULL,
    change_version bigint NOT NULL,
    CONSTRAINT entity_state_pk PRIMARY KEY (connector_id, entity_type, entity_key)
  );

-- tracking_version is the change tracking version of the entity_state row that the change wrote.
-- It exists only after commit, so the connector sets it then; SQLite has no such column.
IF OBJECT_ID(N'dbo.entity_changes', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.entity_changes (
    change_version bigint IDENTITY(1, 1) NOT NULL CONSTRAINT entity_changes_pk PRIMARY KEY,
    connector_id nvarchar(100) NOT NULL,
    entity_type nvarchar(200) NOT NULL,
    entity_key nvarchar(400) NOT NULL,
    version sql_variant NULL,
    message_id nvarchar(200) NOT NULL,
    changed_at datetime2(3) NOT NULL,
    operation nvarchar(16) NOT NULL CONSTRAINT entity_changes_operation_check CHECK (operation IN (N'upsert')),
    tracking_version bigint NULL
  );
  CREATE UNIQUE INDEX entity_changes_by_message ON dbo.entity_changes (connector_id, entity_type, entity_key, message_id);
END;

IF OBJECT_ID(N'dbo.quarantine', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.quarantine (
    quarantine_id nvarchar(200) NOT NULL CONSTRAINT quarantine_pk PRIMARY KEY,
    connector_id nvarchar(100) NOT NULL,
    received_at datetime2(3) NOT NULL,
    reason nvarchar(max) NOT NULL,
    errors nvarchar(max) NOT NULL,
    payload_blob_name nvarchar(1024) NOT NULL,
    size_in_bytes bigint NOT NULL,
    sha256 char(64) NOT NULL,
    content_type nvarchar(256) NOT NULL,
    content_encoding nvarchar(32) NULL,
    dedup_key nvarchar(400) NULL,
    state nvarchar(16) NOT NULL CONSTRAINT quarantine_state_check CHECK (state IN (N'quarantined', N'released')),
    released_at datetime2(3) NULL,
    message_id nvarchar(200) NULL
  );
  CREATE INDEX quarantine_by_received_at ON dbo.quarantine (received_at);
  CREATE INDEX quarantine_by_connector ON dbo.quarantine (connector_id, received_at);
END;

IF OBJECT_ID(N'dbo.deliveries', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.deliveries (
    message_id nvarchar(200) NOT NULL,
    destination_id nvarchar(100) NOT NULL,
    payload_blob_name nvarchar(1024) NULL,
    outcome nvarchar(16) NOT NULL CONSTRAINT deliveries_outcome_check CHECK (outcome IN (N'pending', N'delivered', N'deadLettered', N'filtered')),
    reason nvarchar(max) NULL,
    attempts int NOT NULL CONSTRAINT deliveries_attempts_default DEFAULT 0,
    status_code int NULL,
    updated_at datetime2(3) NOT NULL,
    CONSTRAINT deliveries_pk PRIMARY KEY (message_id, destination_id)
  );
  CREATE INDEX deliveries_by_destination ON dbo.deliveries (destination_id, outcome);
END;

IF OBJECT_ID(N'dbo.replays', N'U') IS NULL
  CREATE TABLE dbo.replays (
    replay_id nvarchar(200) NOT NULL CONSTRAINT replays_pk PRIMARY KEY,
    state nvarchar(16) NOT NULL CONSTRAINT replays_state_check CHECK (state IN (N'running', N'completed', N'cancelled', N'failed')),
    filter nvarchar(max) NOT NULL,
    reason nvarchar(max) NOT NULL,
    operator nvarchar(256) NOT NULL,
    retransform int NOT NULL,
    destination_ids nvarchar(max) NULL,
    requests_per_second float NOT NULL,
    upper_received_at datetime2(3) NULL,
    upper_message_id nvarchar(200) NULL,
    position_received_at datetime2(3) NULL,
    position_message_id nvarchar(200) NULL,
    total int NOT NULL,
    replayed int NOT NULL CONSTRAINT replays_replayed_default DEFAULT 0,
    failed int NOT NULL CONSTRAINT replays_failed_default DEFAULT 0,
    created_at datetime2(3) NOT NULL,
    updated_at datetime2(3) NOT NULL,
    finished_at datetime2(3) NULL,
    cancel_reason nvarchar(max) NULL,
    cancelled_by nvarchar(256) NULL,
    error nvarchar(max) NULL
  );

IF OBJECT_ID(N'dbo.replay_items', N'U') IS NULL
BEGIN
  CREATE TABLE dbo.replay_items (
    replay_id nvarchar(200) NOT NULL,
    original_message_id nvarchar(200) NOT NULL,
    new_message_id nvarchar(200) NULL,
    error nvarchar(max) NULL,
    at datetime2(3) NOT NULL,
    CONSTRAINT replay_items_pk PRIMARY KEY (replay_id, original_message_id)
  );
  CREATE INDEX replay_items_by_new_message ON dbo.replay_items (new_message_id);
END;

COMMIT TRANSACTION;
GO

-- Change tracking on the tables whose changes other systems read: messages, deliveries and
-- entity state.
IF NOT EXISTS (SELECT 1 FROM sys.change_tracking_tables WHERE object_id = OBJECT_ID(N'dbo.messages'))
  ALTER TABLE dbo.messages ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = OFF);
IF NOT EXISTS (SELECT 1 FROM sys.change_tracking_tables WHERE object_id = OBJECT_ID(N'dbo.deliveries'))
  ALTER TABLE dbo.deliveries ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = OFF);
IF NOT EXISTS (SELECT 1 FROM sys.change_tracking_tables WHERE object_id = OBJECT_ID(N'dbo.entity_state'))
  ALTER TABLE dbo.entity_state ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = OFF);
GO

-- The Function App signs in with its system-assigned identity, whose name is the app's name.
-- It gets row access to the tracking tables and the change tracking view, and no role:
-- no db_owner, no DDL, no access to other schemas.
IF DATABASE_PRINCIPAL_ID(N'$(FunctionAppName)') IS NULL
  CREATE USER [$(FunctionAppName)] FROM EXTERNAL PROVIDER;
GO

GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.messages TO [$(FunctionAppName)];
GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.attempts TO [$(FunctionAppName)];
GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.audit TO [$(FunctionAppName)];
GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.entity_state TO [$(FunctionAppName)];
GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.entity_changes TO [$(FunctionAppName)];
GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.quarantine TO [$(FunctionAppName)];
GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.deliveries TO [$(FunctionAppName)];
GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.replays TO [$(FunctionAppName)];
GRANT SELECT, INSERT, UPDATE, DELETE ON OBJECT::dbo.replay_items TO [$(FunctionAppName)];
GRANT VIEW CHANGE TRACKING ON OBJECT::dbo.messages TO [$(FunctionAppName)];
GRANT VIEW CHANGE TRACKING ON OBJECT::dbo.deliveries TO [$(FunctionAppName)];
GRANT VIEW CHANGE TRACKING ON OBJECT::dbo.entity_state TO [$(FunctionAppName)];
GO
