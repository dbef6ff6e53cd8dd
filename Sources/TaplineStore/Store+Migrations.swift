import GRDB
import TaplineStoreContract

extension Store {
    /// The schema's history. A migration is never edited once it has shipped: a change is a new
    /// migration appended here.
    ///
    /// Invariants live in the schema itself (NOT NULL, CHECK, UNIQUE, partial unique indexes,
    /// triggers), so they hold for every writer, including a person with the `sqlite3` CLI.
    /// Timestamps are ISO 8601 UTC text: `YYYY-MM-DDTHH:MM:SSZ`, or with `.sss` milliseconds in
    /// the columns that need them (`anchor_time`, `next_fire_at` and the job times). Both forms
    /// sort correctly as text within a column.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sources, jobs, source_events") { db in
            try db.execute(sql: v1)
        }
        // Creating a source checks that no live source has its display name; without an index
        // that was a scan of the whole table per create (194 creates/s at 100,000 sources).
        migrator.registerMigration("v2: index live display names") { db in
            try db.execute(sql: "CREATE INDEX sources_live_display_name ON sources(display_name) WHERE deleted_at IS NULL")
        }
        // Taps read keys of their catalog entries that tapline does not interpret (Meltano SDK
        // taps need `replication_method`, `table_name`, `key_properties`, …): the entry the tap
        // discovered is kept whole, and a job's catalog is that entry with the selection merged in.
        // Rows discovered before this migration have none; their jobs get the four keys as before.
        migrator.registerMigration("v3: whole discovered catalog entries") { db in
            try db.execute(
                sql: """
                    ALTER TABLE source_streams ADD COLUMN catalog_entry TEXT
                        CHECK (catalog_entry IS NULL OR (json_valid(catalog_entry) AND json_type(catalog_entry) = 'object'))
                    """)
        }
        // One destination per account, as in Stitch: a partial unique index admits one live row.
        migrator.registerMigration("v4: destinations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE destinations (
                        id          INTEGER PRIMARY KEY AUTOINCREMENT,
                        type        TEXT NOT NULL CHECK (length(type) > 0),
                        properties  TEXT NOT NULL DEFAULT '{}'
                                    CHECK (json_valid(properties) AND json_type(properties) = 'object'),
                        credentials TEXT NOT NULL DEFAULT '{}'
                                    CHECK (json_valid(credentials) AND json_type(credentials) = 'object'),
                        created_at  TEXT NOT NULL,
                        updated_at  TEXT NOT NULL,
                        deleted_at  TEXT
                    );
                    CREATE UNIQUE INDEX destinations_one_live ON destinations((deleted_at IS NULL)) WHERE deleted_at IS NULL;
                    """)
        }
        // History is pruned by age (completed_at) and by count per source, in small batches;
        // both need an index. Overlap skips are the events that grow with the schedule: they may
        // be pruned; every pause-state event stays (the audit trail).
        migrator.registerMigration("v5: history retention") { db in
            try db.execute(
                sql: """
                    CREATE INDEX jobs_by_completion ON jobs(completed_at) WHERE completed_at IS NOT NULL;
                    CREATE INDEX jobs_by_source_id ON jobs(source_id, id);
                    CREATE INDEX source_events_skipped ON source_events(at) WHERE kind = 'skipped';
                    DROP TRIGGER source_events_no_delete;
                    CREATE TRIGGER source_events_no_delete BEFORE DELETE ON source_events WHEN OLD.kind != 'skipped'
                        BEGIN SELECT RAISE(ABORT, 'source_events is append-only (only skipped occurrences are pruned)'); END;
                    """)
        }
        // A failed load's error_state held Stitch's wire shape; it now holds tapline's facts
        // (message, target exit status) and the API formats the wire shape.
        migrator.registerMigration("v6: load failures as facts") { db in
            try db.execute(
                sql: """
                    UPDATE stream_loads SET error_state = json_object(
                        'message', coalesce(json_extract(error_state, '$.notification_data.message'), 'the target failed'),
                        'target_exit_status', CASE
                            WHEN json_extract(error_state, '$.notification_data.exception_message') LIKE 'target exited with status %'
                            THEN CAST(substr(json_extract(error_state, '$.notification_data.exception_message'), 27) AS INTEGER)
                        END)
                    WHERE error_state IS NOT NULL AND json_extract(error_state, '$.notification_data') IS NOT NULL
                    """)
        }
        // Retries of failed scheduled jobs: each attempt is a job row of its occurrence, and a
        // retry waiting for its time is held on the source, as its due time.
        migrator.registerMigration("v7: retries") { db in
            try db.execute(
                sql: """
                    ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1
                        CHECK (attempt >= 1 AND (attempt = 1 OR scheduled_for IS NOT NULL));
                    DROP INDEX jobs_one_per_occurrence;
                    -- Each attempt of a scheduled occurrence starts at most one job, even across crashes.
                    CREATE UNIQUE INDEX jobs_one_per_attempt ON jobs(source_id, scheduled_for, attempt)
                        WHERE scheduled_for IS NOT NULL;
                    -- A pending retry is the source's due time: it goes when the due time goes (a
                    -- pause, a delete, a system pause).
                    ALTER TABLE sources ADD COLUMN retry_attempt INTEGER
                        CHECK (retry_attempt IS NULL OR (retry_attempt >= 2 AND next_fire_at IS NOT NULL));
                    ALTER TABLE sources ADD COLUMN retry_occurrence TEXT
                        CHECK ((retry_occurrence IS NULL) = (retry_attempt IS NULL));
                    ALTER TABLE sources ADD COLUMN retry_resume_at TEXT
                        CHECK (retry_resume_at IS NULL OR retry_attempt IS NOT NULL);
                    """)
        }
        // A cron expression's time zone (an IANA name; NULL: UTC).
        migrator.registerMigration("v8: cron time zones") { db in
            try db.execute(
                sql:
                    "ALTER TABLE sources ADD COLUMN cron_timezone TEXT CHECK (cron_timezone IS NULL OR length(cron_timezone) BETWEEN 1 AND 64)"
            )
        }
        // Webhook notifications: the configured webhooks (written at start from the
        // configuration) and a durable outbox that triggers fill in the transaction that ends a
        // job or changes a system pause, so a committed event is never without its deliveries.
        migrator.registerMigration("v9: webhook outbox") { db in
            try db.execute(sql: Self.v9)
        }
        // Requests that are not changes of a source join the audit trail: manual starts and
        // stop requests, with the token that asked. SQLite cannot alter a CHECK, so the table is
        // rebuilt with its rows, ids, indexes and triggers.
        migrator.registerMigration("v10: requests in the audit trail") { db in
            try db.execute(sql: Self.v10)
        }
        return migrator
    }

    private static let v9 = """
        CREATE TABLE webhooks (
            name   TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
            url    TEXT NOT NULL CHECK (url GLOB 'http://*' OR url GLOB 'https://*'),
            -- The events it receives, comma-separated (job.succeeded,job.failed,…).
            events TEXT NOT NULL
        );
        CREATE TABLE webhook_deliveries (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook         TEXT NOT NULL,
            event           TEXT NOT NULL CHECK (event IN ('job.succeeded', 'job.failed', 'job.stopped',
                                                         'source.system_paused', 'source.system_unpaused')),
            source_id       INTEGER NOT NULL REFERENCES sources(id),
            job_id          INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
            reason          TEXT,
            created_at      TEXT NOT NULL,
            attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            next_attempt_at TEXT,
            delivered_at    TEXT,
            abandoned_at    TEXT,
            last_status     INTEGER,
            last_error      TEXT,
            -- Pending exactly while it has a next attempt.
            CHECK ((next_attempt_at IS NULL) = (delivered_at IS NOT NULL OR abandoned_at IS NOT NULL)),
            CHECK (delivered_at IS NULL OR abandoned_at IS NULL)
        );
        CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
        CREATE TRIGGER jobs_notify_webhooks AFTER UPDATE OF status ON jobs
            WHEN OLD.status = 'running' AND NEW.status IN ('succeeded', 'failed', 'stopped')
            BEGIN
                INSERT INTO webhook_deliveries (webhook, event, source_id, job_id, created_at, next_attempt_at)
                SELECT name, 'job.' || NEW.status, NEW.source_id, NEW.id, NEW.completed_at, NEW.completed_at FROM webhooks
                WHERE instr(',' || events || ',', ',job.' || NEW.status || ',') > 0;
            END;
        CREATE TRIGGER source_events_notify_webhooks AFTER INSERT ON source_events
            WHEN NEW.kind IN ('system_paused', 'system_unpaused')
            BEGIN
                INSERT INTO webhook_deliveries (webhook, event, source_id, reason, created_at, next_attempt_at)
                SELECT name, 'source.' || NEW.kind, NEW.source_id, NEW.reason, NEW.at, NEW.at FROM webhooks
                WHERE instr(',' || events || ',', ',source.' || NEW.kind || ',') > 0;
            END;
        """

    private static let v10 = """
        CREATE TABLE source_events_v10 (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            at        TEXT NOT NULL,
            kind      TEXT NOT NULL CHECK (kind IN ('created', 'updated', 'paused', 'unpaused',
                                                    'system_paused', 'system_unpaused', 'deleted', 'skipped',
                                                    'manual_start', 'stop_requested')),
            actor     TEXT NOT NULL CHECK (length(actor) > 0),
            reason    TEXT,
            detail    TEXT
        );
        INSERT INTO source_events_v10 (id, source_id, at, kind, actor, reason, detail)
            SELECT id, source_id, at, kind, actor, reason, detail FROM source_events;
        DROP TABLE source_events;
        ALTER TABLE source_events_v10 RENAME TO source_events;
        CREATE INDEX source_events_by_source ON source_events(source_id, id);
        CREATE INDEX source_events_skipped ON source_events(at) WHERE kind = 'skipped';
        CREATE TRIGGER source_events_no_update BEFORE UPDATE ON source_events
            BEGIN SELECT RAISE(ABORT, 'source_events is append-only'); END;
        CREATE TRIGGER source_events_no_delete BEFORE DELETE ON source_events WHEN OLD.kind != 'skipped'
            BEGIN SELECT RAISE(ABORT, 'source_events is append-only (only skipped occurrences are pruned)'); END;
        CREATE TRIGGER source_events_notify_webhooks AFTER INSERT ON source_events
            WHEN NEW.kind IN ('system_paused', 'system_unpaused')
            BEGIN
                INSERT INTO webhook_deliveries (webhook, event, source_id, reason, created_at, next_attempt_at)
                SELECT name, 'source.' || NEW.kind, NEW.source_id, NEW.reason, NEW.at, NEW.at FROM webhooks
                WHERE instr(',' || events || ',', ',source.' || NEW.kind || ',') > 0;
            END;
        """

    private static let v1 = """
        CREATE TABLE sources (
            id                   INTEGER PRIMARY KEY AUTOINCREMENT,
            name                 TEXT NOT NULL UNIQUE
                                 CHECK (length(name) BETWEEN 1 AND 49
                                        AND substr(name, 1, 1) GLOB '[a-z_]'
                                        AND name NOT GLOB '*[^a-z0-9_$]*'),
            display_name         TEXT NOT NULL CHECK (length(display_name) > 0),
            type                 TEXT NOT NULL CHECK (length(type) > 0),
            properties           TEXT NOT NULL DEFAULT '{}'
                                 CHECK (json_valid(properties) AND json_type(properties) = 'object'),
            credentials          TEXT NOT NULL DEFAULT '{}'
                                 CHECK (json_valid(credentials) AND json_type(credentials) = 'object'),
            frequency_in_minutes INTEGER CHECK (frequency_in_minutes IN (1, 30, 60, 360, 720, 1440)),
            anchor_time          TEXT CHECK (anchor_time IS NULL OR anchor_time GLOB '[0-9][0-9][0-9][0-9]-*Z'),
            cron_expression      TEXT CHECK (cron_expression IS NULL OR length(cron_expression) > 0),
            destination_id       INTEGER,
            paused_at            TEXT,
            system_paused_at     TEXT,
            system_pause_reason  TEXT,
            deleted_at           TEXT,
            next_fire_at         TEXT,
            check_job_name       TEXT,
            created_at           TEXT NOT NULL,
            updated_at           TEXT NOT NULL,
            CHECK ((system_paused_at IS NULL) = (system_pause_reason IS NULL)),
            CHECK (next_fire_at IS NULL
                   OR (paused_at IS NULL AND system_paused_at IS NULL AND deleted_at IS NULL))
        );
        CREATE INDEX sources_next_fire ON sources(next_fire_at) WHERE next_fire_at IS NOT NULL;

        CREATE TABLE jobs (
            id                    INTEGER PRIMARY KEY AUTOINCREMENT,
            job_name              TEXT NOT NULL UNIQUE,
            source_id             INTEGER NOT NULL REFERENCES sources(id),
            trigger               TEXT NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
            scheduled_for         TEXT,
            status                TEXT NOT NULL
                                  CHECK (status IN ('running', 'succeeded', 'failed', 'stopped', 'interrupted')),
            started_at            TEXT NOT NULL,
            completed_at          TEXT,
            discovery_exit_status INTEGER,
            discovery_description TEXT,
            tap_exit_status       INTEGER,
            tap_description       TEXT,
            target_exit_status    INTEGER,
            target_description    TEXT,
            process_group         INTEGER,
            spawned_at            TEXT,
            log_path              TEXT,
            stream_records        TEXT CHECK (stream_records IS NULL OR json_valid(stream_records)),
            CHECK ((trigger = 'scheduled') = (scheduled_for IS NOT NULL)),
            CHECK ((status = 'running') = (completed_at IS NULL))
        );
        -- A scheduled occurrence starts at most one job, even across crashes and restarts.
        CREATE UNIQUE INDEX jobs_one_per_occurrence ON jobs(source_id, scheduled_for)
            WHERE scheduled_for IS NOT NULL;
        -- At most one running job per source.
        CREATE UNIQUE INDEX jobs_one_running ON jobs(source_id) WHERE status = 'running';
        CREATE INDEX jobs_by_source ON jobs(source_id, started_at);

        -- The streams a source's tap discovered, with the selection made through the API.
        CREATE TABLE source_streams (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            source_id     INTEGER NOT NULL REFERENCES sources(id),
            tap_stream_id TEXT NOT NULL,
            stream_name   TEXT NOT NULL,
            schema        TEXT NOT NULL CHECK (json_valid(schema)),
            metadata      TEXT NOT NULL CHECK (json_valid(metadata) AND json_type(metadata) = 'array'),
            selected      INTEGER CHECK (selected IN (0, 1)),
            UNIQUE (source_id, tap_stream_id)
        );

        -- Connection checks: discovery runs (`tap --discover`), Stitch's connection check object.
        CREATE TABLE connection_checks (
            id                      INTEGER PRIMARY KEY AUTOINCREMENT,
            name                    TEXT NOT NULL UNIQUE,
            source_id               INTEGER NOT NULL REFERENCES sources(id),
            status                  TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
            started_at              TEXT NOT NULL,
            completed_at            TEXT,
            discovery_exit_status   INTEGER,
            discovery_error_message TEXT,
            CHECK ((status = 'running') = (completed_at IS NULL))
        );

        -- The last Singer STATE a source's target confirmed: the next job's --state.
        CREATE TABLE source_state (
            source_id  INTEGER PRIMARY KEY REFERENCES sources(id),
            state      TEXT NOT NULL CHECK (json_valid(state) AND json_type(state) = 'object'),
            job_name   TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- The latest load of each stream (Stitch's load object).
        CREATE TABLE stream_loads (
            source_id            INTEGER NOT NULL REFERENCES sources(id),
            stream_name          TEXT NOT NULL,
            last_batch_loaded_at TEXT,
            error_state          TEXT CHECK (error_state IS NULL OR json_valid(error_state)),
            records              INTEGER NOT NULL CHECK (records >= 0),
            job_name             TEXT NOT NULL,
            updated_at           TEXT NOT NULL,
            PRIMARY KEY (source_id, stream_name)
        );

        CREATE TABLE source_events (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            at        TEXT NOT NULL,
            kind      TEXT NOT NULL CHECK (kind IN ('created', 'updated', 'paused', 'unpaused',
                                                    'system_paused', 'system_unpaused', 'deleted', 'skipped')),
            actor     TEXT NOT NULL CHECK (length(actor) > 0),
            reason    TEXT,
            detail    TEXT
        );
        CREATE INDEX source_events_by_source ON source_events(source_id, id);
        CREATE TRIGGER source_events_no_update BEFORE UPDATE ON source_events
            BEGIN SELECT RAISE(ABORT, 'source_events is append-only'); END;
        CREATE TRIGGER source_events_no_delete BEFORE DELETE ON source_events
            BEGIN SELECT RAISE(ABORT, 'source_events is append-only'); END;

        -- One line per source with the state an operator asks about first.
        CREATE VIEW source_status AS
            SELECT s.id, s.name, s.display_name, s.type,
                   CASE WHEN s.deleted_at IS NOT NULL THEN 'deleted'
                        WHEN s.paused_at IS NOT NULL THEN 'paused'
                        WHEN s.system_paused_at IS NOT NULL THEN 'system_paused'
                        ELSE 'active' END AS status,
                   s.next_fire_at,
                   (SELECT j.job_name FROM jobs j WHERE j.source_id = s.id AND j.status = 'running') AS running_job,
                   (SELECT max(j.started_at) FROM jobs j WHERE j.source_id = s.id) AS last_job_started_at,
                   s.paused_at, s.system_paused_at, s.system_pause_reason, s.deleted_at
            FROM sources s;
        """
}
