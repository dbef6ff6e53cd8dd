import Foundation
import Logging
import PostgresNIO
import TaplineCore
import TaplineStoreContract

/// The job operations in PostgreSQL: the rules SQLite's store applies (`JobOutcome+Loads`,
/// `SourceRecord.afterManualStart`, `RetryPolicy`, `CompletionPolicy`), each call one transaction.
///
/// Every transaction that decides on a source locks its row (`FOR UPDATE`) before it reads
/// anything it decides by. A manual start checks for a running job under that lock (a job can
/// only start under it, so the check holds until the insert). A completion locks its jobs'
/// sources first, in id order: its retry, system pause or unpause is decided on the row as it
/// is, and a pause from another node either comes before (and is seen) or waits for it.
extension ClusterStore {
    // MARK: Manual starts

    public func startManualJob(sourceID: Int64, now: Date, jobName: String, actor: Actor, reason: String?) async throws
        -> ManualStartResult
    {
        guard let node = membership else { throw ClusterStartError.noLease }
        let logger = database.logger
        let catalog = self.catalog
        return try await database.transaction { connection -> ManualStartResult in
            try await Self.requireLease(connection, logger: logger, node: node)
            // Lock and read → plan → write.
            guard let source = try await self.fetchSource(connection, id: sourceID, lock: true) else { return .unknownSource }
            let plan = source.manualStartPlan(
                catalog: catalog, hasDestination: try await Self.hasLiveDestination(connection, logger: logger),
                hasRunningJob: try await Self.runningJob(connection, logger: logger, sourceID: sourceID) != nil, jobName: jobName,
                reason: reason, now: now)
            let updated: SourceRecord, setsNextFire: Bool, event: PlannedEvent
            switch plan {
            case .refuse(let refusal): return refusal
            case .start(let after, let sets, let planned): (updated, setsNextFire, event) = (after, sets, planned)
            }
            let rows = try await connection.query(
                """
                INSERT INTO jobs (job_name, source_id, trigger, status, node, node_epoch, started_at)
                VALUES (\(jobName), \(sourceID), 'manual', 'running', \(node.name), \(node.epoch), \(ClusterTime.millis(now)))
                RETURNING \(unescaped: Self.jobColumns)
                """, logger: logger)
            guard let job = try await Self.jobs(from: rows).first else { throw ClusterError.unexpected("a job insert returned no row") }
            if setsNextFire { try await Self.setNextFire(connection, logger: logger, sourceID: sourceID, updated.nextFireAt) }
            try await Self.appendEvent(
                connection, logger: logger, sourceID: sourceID, kind: event.kind, actor: actor, at: now, reason: event.reason,
                detail: event.detail)
            return .started(job, source: updated)
        }
    }

    /// Throws `fenced` unless `node` holds a valid lease now, and keeps its row `FOR SHARE`
    /// until the transaction ends, so the reaper cannot interrupt this node's jobs half-way.
    static func requireLease(_ connection: PostgresConnection, logger: Logger, node: NodeMembership) async throws {
        for try await _ in try await connection.query(
            """
            SELECT 1 FROM nodes
            WHERE name = \(node.name) AND epoch = \(node.epoch) AND left_at IS NULL AND lease_expires_at > now()
            FOR SHARE
            """, logger: logger
        ).decode(Int.self) {
            return
        }
        throw ClusterStartError.fenced(node: node.name, epoch: node.epoch)
    }

    // MARK: A job's life

    public func recordSpawned(_ spawned: [SpawnedJob]) async throws {
        guard !spawned.isEmpty else { return }
        let logger = database.logger
        try await database.transaction { connection in
            for s in spawned {
                try await connection.query(
                    """
                    UPDATE jobs SET process_group = \(s.processGroup), spawned_at = \(ClusterTime.millis(s.spawnedAt)),
                        log_path = \(s.logPath)
                    WHERE id = \(s.jobID)
                    """, logger: logger)
            }
        }
    }

    /// Ends jobs with their outcomes, as SQLite's `recordCompletions` does, in one transaction:
    /// stream counts, confirmed state and loads; a retry of a failed scheduled job; the system
    /// pause after repeated failures and its clearing by a manual success; log retention.
    public func recordCompletions(_ completions: [(jobID: Int64, outcome: JobOutcome)], policy: CompletionPolicy)
        async throws -> CompletionResult
    {
        guard !completions.isEmpty else { return CompletionResult() }
        let logger = database.logger
        let catalog = self.catalog
        let ids = completions.map(\.jobID)
        return try await database.transaction { connection -> CompletionResult in
            // The sources first, in id order (see above).
            try await connection.query(
                """
                SELECT id FROM sources WHERE id IN (SELECT source_id FROM jobs WHERE id = ANY(\(ids)))
                ORDER BY id FOR UPDATE
                """, logger: logger)
            var result = CompletionResult()
            for (jobID, o) in completions {
                let rows = try await connection.query(
                    """
                    UPDATE jobs SET status = \(o.status.rawValue), completed_at = \(ClusterTime.millis(o.completedAt)),
                        discovery_exit_status = \(o.discoveryExitStatus), discovery_description = \(o.discoveryDescription),
                        tap_exit_status = \(o.tapExitStatus), tap_description = \(o.tapDescription),
                        target_exit_status = \(o.targetExitStatus), target_description = \(o.targetDescription),
                        stream_records = \(o.streamRecordsJSON)::jsonb
                    WHERE id = \(jobID) AND status = 'running'
                    RETURNING \(unescaped: Self.jobColumns)
                    """, logger: logger)
                guard let job = try await Self.jobs(from: rows).first else { continue }
                result.ended.append(job)
                try await Self.recordStreams(connection, logger: logger, job: job, outcome: o)
                switch try await self.applyCompletionStep(connection, job: job, policy: policy, catalog: catalog, now: o.completedAt) {
                case .retried(let at): result.retries.append((job, at))
                case .systemPaused(let reason): result.systemPaused.append((job.sourceID, reason))
                case .nothing: break
                }
            }
            if policy.keepLogsPerSource > 0 {
                for sourceID in Set(result.ended.map(\.sourceID)).sorted() {
                    for try await path in try await connection.query(
                        """
                        WITH old AS (
                            SELECT id, log_path FROM jobs WHERE source_id = \(sourceID) AND log_path IS NOT NULL
                            ORDER BY id DESC OFFSET \(policy.keepLogsPerSource)
                        ), cleared AS (
                            UPDATE jobs SET log_path = NULL FROM old WHERE jobs.id = old.id
                        )
                        SELECT log_path FROM old ORDER BY id
                        """, logger: logger
                    ).decode(String.self) {
                        result.expiredLogs.append(path)
                    }
                }
            }
            return result
        }
    }

    /// The confirmed state and the per-stream loads of an ended job.
    static func recordStreams(_ connection: PostgresConnection, logger: Logger, job: JobRecord, outcome o: JobOutcome) async throws {
        let at = ClusterTime.millis(o.completedAt)
        if let state = o.confirmedState {
            try await connection.query(
                """
                INSERT INTO source_state (source_id, state, job_name, updated_at)
                VALUES (\(job.sourceID), \(StoredJSON.compact(state)), \(job.jobName), \(at))
                ON CONFLICT (source_id) DO UPDATE SET state = EXCLUDED.state, job_name = EXCLUDED.job_name,
                    updated_at = EXCLUDED.updated_at
                """, logger: logger)
        }
        for load in o.plannedLoads {
            try await connection.query(
                """
                INSERT INTO stream_loads (source_id, stream_name, last_batch_loaded_at, error_state, records, job_name, updated_at)
                VALUES (\(job.sourceID), \(load.stream), \(load.loadedAt.map(ClusterTime.millis)), \(load.errorState),
                    \(load.records), \(job.jobName), \(at))
                ON CONFLICT (source_id, stream_name) DO UPDATE SET
                    last_batch_loaded_at = EXCLUDED.last_batch_loaded_at, error_state = EXCLUDED.error_state,
                    records = EXCLUDED.records, job_name = EXCLUDED.job_name, updated_at = EXCLUDED.updated_at
                """, logger: logger)
        }
    }

    /// One ended job's effect on its source, under the lock the completion took: read the
    /// source, ask `CompletionPolicy.step`, write what it says (the plan SQLite's store carries
    /// out too).
    func applyCompletionStep(
        _ connection: PostgresConnection, job: JobRecord, policy: CompletionPolicy, catalog: SourceTypeCatalog, now: Date
    ) async throws -> CompletionEffect {
        let logger = database.logger
        let source = try await fetchSource(connection, id: job.sourceID, lock: false)
        var step = policy.step(after: job, source: source, now: now)
        if case .retry(let at, let attempt, let occurrence, let resumeAt) = step {
            var updated = false
            for try await _ in try await connection.query(
                """
                UPDATE sources SET next_fire_at = \(ClusterTime.millis(at)), retry_attempt = \(attempt),
                    retry_occurrence = \(ClusterTime.millis(occurrence)), retry_resume_at = \(ClusterTime.millis(resumeAt))
                WHERE id = \(job.sourceID) AND next_fire_at IS NOT NULL
                RETURNING id
                """, logger: logger
            ).decode(Int64.self) {
                updated = true
            }
            if updated { return .retried(at) }
            step = policy.stepWithoutRetry
        }
        guard let source else { return .nothing }
        switch step {
        case .none, .retry:
            return .nothing
        case .clearSystemPause(let event):
            try await connection.query(
                """
                UPDATE sources SET system_paused_at = NULL, system_pause_reason = NULL, updated_at = \(ClusterTime.seconds(now))
                WHERE id = \(source.id)
                """, logger: logger)
            try await Self.appendEvent(
                connection, logger: logger, sourceID: source.id, kind: event.kind, actor: .system, at: now, reason: event.reason,
                detail: event.detail)
            // Schedulable again: its next fire by the same rule as every other change.
            guard let after = try await fetchSource(connection, id: source.id, lock: false) else { return .nothing }
            _ = try await refreshSchedule(connection, before: source, after: after, catalog: catalog, now: now)
            return .nothing
        case .countFailures(let count):
            // The last attempt of each occurrence: a retried failure is one occurrence, not several.
            var statuses: [JobStatus] = []
            for try await status in try await connection.query(
                """
                SELECT status FROM jobs j WHERE source_id = \(job.sourceID) AND trigger = 'scheduled'
                    AND status NOT IN ('stopped', 'running')
                    AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.source_id = j.source_id AND k.scheduled_for = j.scheduled_for
                                    AND k.attempt > j.attempt)
                ORDER BY id DESC LIMIT \(count)
                """, logger: logger
            ).decode(String.self) {
                if let status = JobStatus(rawValue: status) { statuses.append(status) }
            }
            guard let reason = policy.systemPauseReason(lastAttempts: statuses, after: job),
                try await Self.systemPause(connection, logger: logger, source: source, reason: reason, now: now)
            else { return .nothing }
            return .systemPaused(reason)
        }
    }

    // MARK: Reads

    public func job(name: String) async throws -> JobRecord? {
        try await database.query("SELECT \(unescaped: Self.jobColumns) FROM jobs WHERE job_name = \(name)") { rows in
            try await Self.jobs(from: rows).first
        }
    }

    public func jobs(sourceID: Int64, page: Int, perPage: Int = 100, filter: JobFilter = JobFilter()) async throws
        -> (jobs: [JobRecord], total: Int)
    {
        let logger = database.logger
        let statuses: [String]? = filter.statuses.isEmpty ? nil : filter.statuses.map(\.rawValue)
        let trigger = filter.trigger?.rawValue
        let since = filter.since.map(ClusterTime.millis)
        let until = filter.until.map(ClusterTime.millis)
        let offset = (page - 1) * perPage
        return try await database.transaction { connection in
            // The count and the page in one transaction (at READ COMMITTED a job may start
            // between them: the count is then one ahead, as it would be a moment later).
            var total = 0
            for try await count in try await connection.query(
                """
                SELECT count(*) FROM jobs
                WHERE source_id = \(sourceID) AND (\(statuses)::text[] IS NULL OR status = ANY(\(statuses)::text[]))
                    AND (\(trigger)::text IS NULL OR trigger = \(trigger)::text)
                    AND (\(since)::timestamptz IS NULL OR started_at >= \(since)::timestamptz)
                    AND (\(until)::timestamptz IS NULL OR started_at < \(until)::timestamptz)
                """, logger: logger
            ).decode(Int.self) {
                total = count
            }
            let jobs = try await Self.jobs(
                from: try await connection.query(
                    """
                    SELECT \(unescaped: Self.jobColumns) FROM jobs
                    WHERE source_id = \(sourceID) AND (\(statuses)::text[] IS NULL OR status = ANY(\(statuses)::text[]))
                        AND (\(trigger)::text IS NULL OR trigger = \(trigger)::text)
                        AND (\(since)::timestamptz IS NULL OR started_at >= \(since)::timestamptz)
                        AND (\(until)::timestamptz IS NULL OR started_at < \(until)::timestamptz)
                    ORDER BY started_at DESC, id DESC LIMIT \(perPage) OFFSET \(offset)
                    """, logger: logger))
            return (jobs, total)
        }
    }

    // MARK: State

    public func state(sourceID: Int64) async throws -> String? {
        try await database.query("SELECT state FROM source_state WHERE source_id = \(sourceID)") { rows in
            for try await state in rows.decode(String.self) { return state }
            return nil
        }
    }

    public func resetState(sourceID: Int64, actor: Actor, now: Date) async throws -> StateResetResult {
        let logger = database.logger
        return try await database.transaction { connection -> StateResetResult in
            guard let source = try await self.fetchSource(connection, id: sourceID, lock: true) else {
                throw SourceError.invalidID(sourceID)
            }
            guard source.deletedAt == nil else { throw SourceError.deleted(sourceID) }
            if let running = try await Self.runningJob(connection, logger: logger, sourceID: sourceID) {
                return .jobRunning(jobName: running.jobName)
            }
            var previous: String?
            for try await state in try await connection.query(
                "DELETE FROM source_state WHERE source_id = \(sourceID) RETURNING state", logger: logger
            ).decode(String.self) {
                previous = state
            }
            try await Self.appendEvent(
                connection, logger: logger, sourceID: sourceID, kind: .updated, actor: actor, at: now, reason: "state reset",
                detail: "state")
            return .reset(previous: previous)
        }
    }

    // MARK: Helpers

    static func runningJob(_ connection: PostgresConnection, logger: Logger, sourceID: Int64) async throws -> JobRecord? {
        try await jobs(
            from: try await connection.query(
                "SELECT \(unescaped: jobColumns) FROM jobs WHERE source_id = \(sourceID) AND status = 'running'", logger: logger)
        ).first
    }

    static func setNextFire(_ connection: PostgresConnection, logger: Logger, sourceID: Int64, _ next: Date?) async throws {
        try await connection.query(
            """
            UPDATE sources SET next_fire_at = \(next.map(ClusterTime.millis)), retry_attempt = NULL, retry_occurrence = NULL,
                retry_resume_at = NULL
            WHERE id = \(sourceID)
            """, logger: logger)
    }
}

extension ClusterStore {
    /// What a job of the source needs from the database, in one transaction: the live
    /// destination, the confirmed state and (`withCatalog`) the selected streams' catalog.
    public func jobInputs(sourceID: Int64, withCatalog: Bool) async throws
        -> (destination: DestinationRecord?, state: String?, catalog: String?)
    {
        let logger = database.logger
        return try await database.transaction { connection in
            let destination = try await self.destinations(
                from: try await connection.query(
                    "SELECT \(unescaped: Self.destinationColumns) FROM destinations WHERE deleted_at IS NULL", logger: logger)
            ).first
            var state: String?
            for try await text in try await connection.query(
                "SELECT state FROM source_state WHERE source_id = \(sourceID)", logger: logger
            ).decode(String.self) {
                state = text
            }
            let streams =
                withCatalog
                ? try await Self.streams(
                    from: try await connection.query(
                        "SELECT \(unescaped: Self.streamColumns) FROM source_streams WHERE source_id = \(sourceID) ORDER BY id",
                        logger: logger)) : []
            return (destination, state, try StreamRecord.catalog(streams))
        }
    }

    /// The catch-up rules at a node's start (or after a forward step of its clock, `cause`), for
    /// the sources no node has been starting: those overdue by more than `unattendedAfter` (the
    /// lease and the reap grace: longer than any live node leaves a due source unclaimed, so
    /// they were missed while every node was down). A source overdue by less is being started by
    /// another node or is about to be, and is left to that start (a late start coalesces what
    /// it passed). Rows another transaction holds (a claim in progress) are skipped. Returns
    /// every scheduled source's due time, for the scheduler's queue, and how many were skipped.
    public func prepareSchedule(
        now: Date, catchUpWindow: TimeInterval?, cause: CatchUpCause, unattendedAfter: TimeInterval
    ) async throws -> (due: [(sourceID: Int64, due: Date)], skipped: Int) {
        let (logger, catalog) = (database.logger, catalog)
        let skipped = try await database.transaction { connection in
            var skipped = 0
            let overdue = try await self.sources(
                from: try await connection.query(
                    """
                    SELECT \(unescaped: ClusterSourceRows.columns) FROM sources
                    WHERE next_fire_at IS NOT NULL AND next_fire_at < \(ClusterTime.millis(now.addingTimeInterval(-unattendedAfter)))
                    ORDER BY id FOR UPDATE SKIP LOCKED
                    """, logger: logger))
            for source in overdue {
                switch source.catchUpStep(type: catalog[source.type], now: now, window: catchUpWindow) {
                case .leave: continue
                case .due(let occurrence):
                    try await Self.setNextFire(connection, logger: logger, sourceID: source.id, occurrence)
                case .skip(let missed, let next):
                    skipped += 1
                    try await Self.setNextFire(connection, logger: logger, sourceID: source.id, next)
                    try await Self.appendEvent(
                        connection, logger: logger, sourceID: source.id, kind: .skipped, actor: .system, at: now,
                        reason: "outside catch-up window", detail: "\(missed) occurrence(s) missed \(cause.detail)")
                }
            }
            return skipped
        }
        return (try await scheduledDueTimes(), skipped)
    }

    /// Every scheduled source's due time, for a node's scheduler queue.
    public func scheduledDueTimes() async throws -> [(sourceID: Int64, due: Date)] {
        try await database.query("SELECT id, next_fire_at FROM sources WHERE next_fire_at IS NOT NULL ORDER BY id") { rows in
            var due: [(sourceID: Int64, due: Date)] = []
            for try await (id, at) in rows.decode((Int64, Date).self) { due.append((id, ClusterTime.read(at))) }
            return due
        }
    }
}

extension ClusterStore {
    /// The boot sweep of a node: every job still `running` under this node's name from an
    /// earlier epoch (a previous life killed, or a start transaction that committed after its
    /// caller gave up) ends as `interrupted`. Returns them, so the caller can end the processes
    /// they left on this machine (`OrphanSweep`). Jobs of the current epoch are left alone: they
    /// are this life's.
    /// Which of `names` are jobs that `node` ran in a life before `epoch`, whatever their status
    /// now (the reaper may have ended them already): processes carrying those names are
    /// leftovers of this node to kill.
    public func jobsOfEarlierLives(named names: Set<String>, node: String, epoch: Int64) async throws -> Set<String> {
        guard !names.isEmpty else { return [] }
        return try await database.query(
            "SELECT job_name FROM jobs WHERE job_name = ANY(\(Array(names))) AND node = \(node) AND node_epoch < \(epoch)"
        ) { rows in
            var found: Set<String> = []
            for try await name in rows.decode(String.self) { found.insert(name) }
            return found
        }
    }

    public func interruptEarlierLives(node: String, epoch: Int64, now: Date) async throws -> [JobRecord] {
        try await database.query(
            """
            UPDATE jobs SET status = 'interrupted', completed_at = \(ClusterTime.millis(now)),
                discovery_description = 'Interrupted', tap_description = 'Interrupted', target_description = 'Interrupted'
            WHERE node = \(node) AND node_epoch < \(epoch) AND status = 'running'
            RETURNING \(unescaped: Self.jobColumns)
            """
        ) { rows in try await Self.jobs(from: rows) }
    }
}
