import Foundation
import GRDB
import TaplineCore

/// The outcome of trying to start one scheduled occurrence.
public enum ClaimResult: Sendable, Equatable {
    /// The job row is committed; spawn its process now. `nextFire` is the source's new due time.
    case started(JobRecord, source: SourceRecord, nextFire: Date?)
    /// A job of the source was still running: the occurrence is skipped (event `skipped`,
    /// reason `overlap`), never queued.
    case skippedOverlap(sourceID: Int64, nextFire: Date?)
    /// Nothing to start: the source is paused, system paused, deleted, not configured, or its due
    /// time moved. `nextFire` is its current due time, for the scheduler's queue.
    case notDue(sourceID: Int64, nextFire: Date?, reason: NotDueReason)

    public var sourceID: Int64 {
        switch self {
        case .started(let job, _, _): job.sourceID
        case .skippedOverlap(let id, _), .notDue(let id, _, _): id
        }
    }

    /// The source's due time after this claim.
    public var nextFire: Date? {
        switch self {
        case .started(_, _, let next), .skippedOverlap(_, let next), .notDue(_, let next, _): next
        }
    }
}

/// What one start transaction did: a result per claimed occurrence (a collection of them), and how
/// many further occurrences the late starts coalesced.
public struct ClaimBatch: Sendable, RandomAccessCollection {
    public var results: [ClaimResult]
    /// Occurrences that fell between a claimed occurrence and the moment it was handled: the
    /// scheduler was late, and the one job (or overlap skip) stands for all of them.
    public var coalescedOccurrences: Int

    public var startIndex: Int { results.startIndex }
    public var endIndex: Int { results.endIndex }
    public subscript(position: Int) -> ClaimResult { results[position] }
}

/// Why a due occurrence did not start.
public enum NotDueReason: String, Sendable, Equatable {
    case paused
    case systemPaused = "system_paused"
    case deleted
    /// Its due time changed (an edit), or the occurrence already ran.
    case moved
    /// Not fully configured, or its type left the configuration.
    case notConfigured = "not_configured"
}

/// What recording job outcomes did.
public struct CompletionResult: Sendable {
    public var ended: [JobRecord] = []
    /// Log files whose retention ran out; delete them.
    public var expiredLogs: [String] = []
    /// Sources system-paused by repeated failures, with the reason. (Every change of a source's
    /// schedule, these and the clearing of a pause by a manual success, reaches the scheduler
    /// through the store's announcements.)
    public var systemPaused: [(sourceID: Int64, reason: String)] = []
}

/// What happens around a job's end, from the configuration.
public struct CompletionPolicy: Sendable {
    /// Job logs kept per source; 0 keeps all.
    public var keepLogsPerSource = 0
    /// Consecutive failed scheduled jobs that system-pause a source; 0 disables.
    public var failuresBeforeSystemPause = 0
    public init(keepLogsPerSource: Int = 0, failuresBeforeSystemPause: Int = 0) {
        self.keepLogsPerSource = keepLogsPerSource
        self.failuresBeforeSystemPause = failuresBeforeSystemPause
    }
}

/// The outcome of `POST /v4/sources/{id}/sync`.
public enum ManualStartResult: Sendable, Equatable {
    case started(JobRecord, source: SourceRecord)
    case unknownSource
    case deleted
    case alreadyRunning
    case notConfigured(ConfigurationStep)
    case typeMissing(String)
    /// The account has no destination (it was deleted): nothing to load into.
    case noDestination
}

extension Store {
    static let jobColumns = """
        id, job_name, source_id, trigger, scheduled_for, status, started_at, completed_at, discovery_exit_status,
        discovery_description, tap_exit_status, tap_description, target_exit_status, target_description,
        process_group, spawned_at, log_path, stream_records
        """

    // MARK: Scheduled starts

    /// Starts the given due occurrences in **one** write transaction (one fsync for a whole burst).
    ///
    /// For each, the transaction re-checks what the scheduler's memory cannot be trusted with: the
    /// source is active (`paused_at`, `system_paused_at` and `deleted_at` all NULL), its stored
    /// due time is still this occurrence, and no job of it is running. Only then is the job row
    /// inserted and the due time advanced. A pause committed before this transaction is therefore
    /// always seen; one committed after it was acknowledged after the job had started.
    ///
    /// A start later than its occurrence coalesces the occurrences that passed meanwhile into its
    /// one job; they are counted in the batch and, at most once an hour per source, in a
    /// `skipped` event (reason `coalesced`) that says how many since the last such event.
    public func claimScheduledStarts(
        _ claims: [(sourceID: Int64, occurrence: Date)], now: Date, jobName: (Int64) -> String
    ) throws -> ClaimBatch {
        let catalog = self.catalog
        let ledger = self.coalescing
        return try writer.write { db in
            let hasDestination = try Self.liveDestination(db) != nil
            var coalesced = 0
            let results = try claims.map { claim in
                try Self.claim(
                    db, sourceID: claim.sourceID, occurrence: claim.occurrence, now: now, catalog: catalog,
                    hasDestination: hasDestination, jobName: jobName, ledger: ledger, coalesced: &coalesced)
            }
            return ClaimBatch(results: results, coalescedOccurrences: coalesced)
        }
    }

    private static func claim(
        _ db: Database, sourceID: Int64, occurrence: Date, now: Date, catalog: SourceTypeCatalog, hasDestination: Bool,
        jobName: (Int64) -> String, ledger: CoalescingLedger, coalesced: inout Int
    ) throws -> ClaimResult {
        guard let source = try fetchSource(db, id: sourceID) else {
            return .notDue(sourceID: sourceID, nextFire: nil, reason: .deleted)
        }
        if source.deletedAt != nil { return .notDue(sourceID: sourceID, nextFire: nil, reason: .deleted) }
        if source.pausedAt != nil { return .notDue(sourceID: sourceID, nextFire: nil, reason: .paused) }
        if source.systemPausedAt != nil { return .notDue(sourceID: sourceID, nextFire: nil, reason: .systemPaused) }
        guard let stored = source.nextFireAt, StoredTime.millis(stored) == StoredTime.millis(occurrence) else {
            return .notDue(sourceID: sourceID, nextFire: source.nextFireAt, reason: .moved)
        }
        guard let type = catalog[source.type] else {
            try systemPause(db, source: source, reason: "source type \(source.type) is not in the configuration", now: now)
            return .notDue(sourceID: sourceID, nextFire: nil, reason: .notConfigured)
        }
        guard source.isSchedulable(in: catalog) else {
            try setNextFire(db, sourceID: sourceID, nil)
            return .notDue(sourceID: sourceID, nextFire: nil, reason: .notConfigured)
        }
        guard hasDestination else {
            // Nowhere to load: paused until a destination is created, which releases it.
            try systemPause(db, source: source, reason: noDestinationReason, now: now)
            return .notDue(sourceID: sourceID, nextFire: nil, reason: .systemPaused)
        }
        let schedule = source.schedule(type: type)
        let late = NextFirePolicy.coalesced(schedule, occurrence: occurrence, now: now)
        if late > 0 {
            coalesced += late
            if let report = ledger.add(late, sourceID: sourceID, at: now) {
                try appendEvent(
                    db, sourceID: sourceID, kind: .skipped, actor: .system, at: now, reason: "coalesced",
                    detail: "\(report.count) occurrence(s) since \(StoredTime.millis(report.since)) passed while a start was late; each late start ran once for them")
            }
        }
        if let running = try runningJob(db, sourceID: sourceID) {
            let next = NextFirePolicy.afterOccurrence(schedule, occurrence: occurrence, startedAt: nil, now: now)
            try setNextFire(db, sourceID: sourceID, next)
            try appendEvent(
                db, sourceID: sourceID, kind: .skipped, actor: .system, at: now, reason: "overlap",
                detail: "occurrence \(StoredTime.millis(occurrence)) fell while \(running.jobName) was running")
            return .skippedOverlap(sourceID: sourceID, nextFire: next)
        }
        let name = jobName(sourceID)
        try db.run(
            """
            INSERT INTO jobs (job_name, source_id, trigger, scheduled_for, status, started_at)
            VALUES (?, ?, 'scheduled', ?, 'running', ?)
            ON CONFLICT DO NOTHING
            """,
            [name, sourceID, StoredTime.millis(occurrence), StoredTime.millis(now)])
        let inserted = db.changesCount == 1
        let next = NextFirePolicy.afterOccurrence(schedule, occurrence: occurrence, startedAt: inserted ? now : nil, now: now)
        try setNextFire(db, sourceID: sourceID, next)
        guard inserted, let job = try fetchJob(db, name: name) else {
            // The occurrence already has its job (it ran before a crash): never twice.
            return .notDue(sourceID: sourceID, nextFire: next, reason: .moved)
        }
        var updated = source
        updated.nextFireAt = next
        return .started(job, source: updated, nextFire: next)
    }

    // MARK: Manual starts

    /// Starts a manual job whether or not the source is paused; the pause state is untouched.
    /// A plain-interval schedule then counts from this start, as in Stitch.
    public func startManualJob(sourceID: Int64, now: Date, jobName: String) async throws -> ManualStartResult {
        let catalog = self.catalog
        return try await writer.write { db in
            guard let source = try Self.fetchSource(db, id: sourceID) else { return .unknownSource }
            guard source.deletedAt == nil else { return .deleted }
            guard let type = catalog[source.type] else { return .typeMissing(source.type) }
            let step = source.configurationStep(type: type)
            guard step == .fullyConfigured else { return .notConfigured(step) }
            guard try Self.liveDestination(db) != nil else { return .noDestination }
            guard try Self.runningJob(db, sourceID: sourceID) == nil else { return .alreadyRunning }
            try db.execute(
                sql: "INSERT INTO jobs (job_name, source_id, trigger, status, started_at) VALUES (?, ?, 'manual', 'running', ?)",
                arguments: [jobName, sourceID, StoredTime.millis(now)])
            var updated = source
            if source.isSchedulable(in: catalog) {
                updated.nextFireAt = NextFirePolicy.afterManualStart(
                    source.schedule(type: type), current: source.nextFireAt, startedAt: now)
                try Self.setNextFire(db, sourceID: sourceID, updated.nextFireAt)
            }
            guard let job = try Self.fetchJob(db, name: jobName) else { throw StoreError.corruptValue("job row") }
            return .started(job, source: updated)
        }
    }

    // MARK: Job life

    /// Records the process group and log of freshly spawned jobs, in one transaction, so the boot
    /// sweep can find and end orphans after a crash.
    public func recordSpawned(_ spawned: [(jobID: Int64, processGroup: Int32, spawnedAt: Date, logPath: String)]) throws {
        guard !spawned.isEmpty else { return }
        try writer.write { db in
            for s in spawned {
                try db.run(
                    "UPDATE jobs SET process_group = ?, spawned_at = ?, log_path = ? WHERE id = ?",
                    [s.processGroup, StoredTime.millis(s.spawnedAt), s.logPath, s.jobID])
            }
        }
    }

    /// Ends jobs with their outcomes, many per transaction. A job that is no longer running (ended
    /// twice, or interrupted by a sweep) is left as it is. Returns the ended jobs.
    @discardableResult
    public func recordCompletions(_ completions: [(jobID: Int64, outcome: JobOutcome)]) throws -> [JobRecord] {
        try recordCompletions(completions, policy: CompletionPolicy()).ended
    }

    /// Ends jobs (as above), in the same transaction:
    /// - persists the Singer state the target confirmed (even for a failed or stopped job: a target
    ///   confirms a state only once the records before it are stored);
    /// - records each stream's load (Stitch's load object);
    /// - system-pauses a source after `failuresBeforeSystemPause` consecutive failed scheduled jobs
    ///   (stopped jobs do not count; 0 disables), and clears a system pause when a manual job
    ///   succeeds;
    /// - applies log retention: beyond the newest `keepLogsPerSource` logs of a source (0 keeps
    ///   all), older jobs lose their `log_path`; the returned paths are for the caller to delete
    ///   once this transaction has committed.
    @discardableResult
    public func recordCompletions(
        _ completions: [(jobID: Int64, outcome: JobOutcome)], policy: CompletionPolicy
    ) throws -> CompletionResult {
        guard !completions.isEmpty else { return CompletionResult() }
        let catalog = self.catalog
        return try writer.write { db in
            var ended: [JobRecord] = []
            var expired: [String] = []
            var paused: [(sourceID: Int64, reason: String)] = []
            for (jobID, o) in completions {
                try db.run(
                    """
                    UPDATE jobs SET status = ?, completed_at = ?, discovery_exit_status = ?, discovery_description = ?,
                        tap_exit_status = ?, tap_description = ?, target_exit_status = ?, target_description = ?
                    WHERE id = ? AND status = 'running'
                    """,
                    [
                        o.status.rawValue, StoredTime.millis(o.completedAt), o.discoveryExitStatus, o.discoveryDescription,
                        o.tapExitStatus, o.tapDescription, o.targetExitStatus, o.targetDescription, jobID,
                    ])
                guard db.changesCount == 1, let job = try Self.fetchJob(db, id: jobID) else { continue }
                ended.append(job)
                try Self.recordStreams(db, job: job, outcome: o)
                if let reason = try Self.applyPausePolicy(
                    db, job: job, policy: policy, catalog: catalog, now: o.completedAt)
                {
                    paused.append((job.sourceID, reason))
                }
            }
            if policy.keepLogsPerSource > 0 {
                for sourceID in Set(ended.map(\.sourceID)) {
                    let old = try db.fetchRows(
                        "SELECT id, log_path FROM jobs WHERE source_id = ? AND log_path IS NOT NULL ORDER BY id DESC LIMIT -1 OFFSET ?",
                        [sourceID, policy.keepLogsPerSource])
                    for row in old {
                        expired.append(row["log_path"])
                        try db.run("UPDATE jobs SET log_path = NULL WHERE id = ?", [row["id"] as Int64])
                    }
                }
            }
            return CompletionResult(ended: ended, expiredLogs: expired, systemPaused: paused)
        }
    }

    /// The boot sweep: every job still `running` from a previous life ends as `interrupted`
    /// (and every connection check as failed).
    /// Returns them (with their process groups) so the caller can end orphaned processes.
    public func interruptRunningJobs(now: Date) throws -> [JobRecord] {
        try writer.write { db in
            let running = try Row.fetchAll(db, sql: "SELECT \(Self.jobColumns) FROM jobs WHERE status = 'running'")
                .map(JobRecord.init(row:))
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'interrupted', completed_at = ?,
                        discovery_description = 'Interrupted', tap_description = 'Interrupted',
                        target_description = 'Interrupted'
                    WHERE status = 'running'
                    """,
                arguments: [StoredTime.millis(now)])
            try db.execute(
                sql: """
                    UPDATE connection_checks SET status = 'failed', completed_at = ?, discovery_error_message = 'Interrupted'
                    WHERE status = 'running'
                    """,
                arguments: [StoredTime.millis(now)])
            return running
        }
    }

    /// The relayed record counts, the confirmed state and the per-stream loads of an ended job.
    static func recordStreams(_ db: Database, job: JobRecord, outcome o: JobOutcome) throws {
        let at = StoredTime.millis(o.completedAt)
        if !o.streamRecords.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let text = String(decoding: try encoder.encode(o.streamRecords), as: UTF8.self)
            try db.run("UPDATE jobs SET stream_records = ? WHERE id = ?", [text, job.id])
        }
        if let state = o.confirmedState {
            try db.run(
                """
                INSERT INTO source_state (source_id, state, job_name, updated_at) VALUES (?, json(?), ?, ?)
                ON CONFLICT (source_id) DO UPDATE SET state = excluded.state, job_name = excluded.job_name,
                    updated_at = excluded.updated_at
                """,
                [job.sourceID, state, job.jobName, at])
        }
        // A failed target puts every stream it was sent in an error state; otherwise only the
        // streams the target proved it loaded get a load (a stopped job may prove none).
        let targetFailed = o.status == .failed && (o.targetExitStatus ?? 0) != 0
        let failure = targetFailed
            ? Self.loadFailure(message: o.targetDescription ?? "the target failed", exitStatus: o.targetExitStatus) : nil
        for stream in Set(o.streamRecords.keys).union(o.loadedRecords.keys).sorted() {
            let loaded = o.loadedRecords[stream] ?? 0
            guard targetFailed || loaded > 0 else { continue }
            try db.run(
                """
                INSERT INTO stream_loads (source_id, stream_name, last_batch_loaded_at, error_state, records, job_name, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (source_id, stream_name) DO UPDATE SET
                    last_batch_loaded_at = excluded.last_batch_loaded_at, error_state = excluded.error_state,
                    records = excluded.records, job_name = excluded.job_name, updated_at = excluded.updated_at
                """,
                [job.sourceID, stream, targetFailed ? nil : at, failure, loaded, job.jobName, at])
        }
    }

    /// What a failed load records, in tapline's terms (`LoadFailure`); the API turns it into
    /// Stitch's `error_state`.
    static func loadFailure(message: String, exitStatus: Int?) -> String {
        var data: [String: Any] = ["message": message]
        if let exitStatus { data["target_exit_status"] = exitStatus }
        return String(decoding: (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Returns the reason when this completion system-paused the source.
    static func applyPausePolicy(
        _ db: Database, job: JobRecord, policy: CompletionPolicy, catalog: SourceTypeCatalog, now: Date
    ) throws -> String? {
        if job.trigger == .manual, job.status == .succeeded {
            guard let source = try fetchSource(db, id: job.sourceID), source.systemPausedAt != nil else { return nil }
            try db.run(
                "UPDATE sources SET system_paused_at = NULL, system_pause_reason = NULL, updated_at = ? WHERE id = ?",
                [StoredTime.seconds(now), source.id])
            try appendEvent(
                db, sourceID: source.id, kind: .systemUnpaused, actor: .system, at: now,
                reason: "manual job \(job.jobName) succeeded")
            // Schedulable again: its next fire by the same rule as every other change.
            guard let after = try fetchSource(db, id: source.id) else { return nil }
            _ = try refreshSchedule(db, before: source, after: after, catalog: catalog, now: now)
            return nil
        }
        guard job.trigger == .scheduled, job.status == .failed, policy.failuresBeforeSystemPause > 0 else { return nil }
        let recent = try db.fetchRows(
            "SELECT status FROM jobs WHERE source_id = ? AND trigger = 'scheduled' AND status NOT IN ('stopped', 'running') ORDER BY id DESC LIMIT ?",
            [job.sourceID, policy.failuresBeforeSystemPause])
        guard recent.count == policy.failuresBeforeSystemPause, recent.allSatisfy({ $0["status"] as String == "failed" }),
            let source = try fetchSource(db, id: job.sourceID), source.systemPausedAt == nil
        else { return nil }
        let reason = "\(policy.failuresBeforeSystemPause) consecutive scheduled jobs failed (last: \(job.jobName))"
        try systemPause(db, source: source, reason: reason, now: now)
        return reason
    }

    /// What a job of the source needs from the database, in one read (a burst of starts would
    /// otherwise take three reader connections per job): the live destination, the confirmed
    /// state, and the selected catalog when `withCatalog`.
    public func jobInputs(sourceID: Int64, withCatalog: Bool) throws
        -> (destination: DestinationRecord?, state: String?, catalog: String?)
    {
        try writer.read { db in
            let destination = try Self.liveDestination(db)
            let state = try String.fetchOne(db, sql: "SELECT state FROM source_state WHERE source_id = ?", arguments: [sourceID])
            let catalog = withCatalog ? try Self.selectedCatalog(db, sourceID: sourceID) : nil
            return (destination, state, catalog)
        }
    }

    // MARK: Boot and queue

    /// The stored next fire time of each given source (absent: not scheduled), read after every
    /// write committed so far. The scheduler re-reads these when a change of a source crossed its
    /// start transaction and it cannot tell which committed last.
    public func nextFireTimes(of sourceIDs: [Int64]) throws -> [Int64: Date] {
        guard !sourceIDs.isEmpty else { return [:] }
        return try writer.read { db in
            var times: [Int64: Date] = [:]
            let marks = Array(repeating: "?", count: sourceIDs.count).joined(separator: ",")
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, next_fire_at FROM sources WHERE next_fire_at IS NOT NULL AND id IN (\(marks))",
                arguments: StatementArguments(sourceIDs))
            for row in rows {
                times[row["id"]] = try StoredTime.required(row["next_fire_at"])
            }
            return times
        }
    }

    /// Applies the catch-up rules to every source whose due time passed while tapline was down (or
    /// was skipped over by a forward step of the wall clock, `cause`):
    /// it keeps one coalesced occurrence due now when the latest missed one is within the window,
    /// else skips them (event `skipped`, reason `outside catch-up window`). Returns every active
    /// source's due time, for the scheduler's queue.
    public func prepareSchedule(now: Date, catchUpWindow: TimeInterval?, cause: CatchUpCause = .downtime) throws
        -> (due: [(sourceID: Int64, due: Date)], skipped: Int)
    {
        let catalog = self.catalog
        return try writer.write { db in
            var skipped = 0
            let due = try Row.fetchAll(
                db, sql: "SELECT \(SourceRecord.columns) FROM sources WHERE next_fire_at IS NOT NULL AND next_fire_at < ?",
                arguments: [StoredTime.millis(now)]
            ).map(SourceRecord.init(row:))
            for source in due {
                guard let nextFire = source.nextFireAt else { continue }
                switch CatchUpPolicy.decide(source.schedule(type: catalog[source.type]), nextFire: nextFire, now: now, window: catchUpWindow) {
                case .runNow(let occurrence):
                    try Self.setNextFire(db, sourceID: source.id, occurrence)
                case .skip(let missed, let next):
                    skipped += 1
                    try Self.setNextFire(db, sourceID: source.id, next)
                    try Self.appendEvent(
                        db, sourceID: source.id, kind: .skipped, actor: .system, at: now, reason: "outside catch-up window",
                        detail: "\(missed) occurrence(s) missed \(cause.detail)")
                }
            }
            let scheduled = try Row.fetchAll(db, sql: "SELECT id, next_fire_at FROM sources WHERE next_fire_at IS NOT NULL")
                .map { row in (sourceID: row["id"] as Int64, due: try StoredTime.required(row["next_fire_at"])) }
            return (scheduled, skipped)
        }
    }

    // MARK: Reads

    public func job(name: String) async throws -> JobRecord? {
        try await writer.read { db in try Self.fetchJob(db, name: name) }
    }

    /// A page (1-based, newest first) of a source's jobs, and the total count.
    public func jobs(sourceID: Int64, page: Int, perPage: Int = 100, filter: JobFilter = JobFilter()) async throws
        -> (jobs: [JobRecord], total: Int)
    {
        let (condition, values) = filter.sql
        return try await writer.read { db in
            let base: [any DatabaseValueConvertible] = [sourceID] + values
            let total = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM jobs WHERE source_id = ?\(condition)", arguments: StatementArguments(base)) ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT \(Self.jobColumns) FROM jobs WHERE source_id = ?\(condition) ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
                arguments: StatementArguments(base + [perPage, (page - 1) * perPage]))
            return (try rows.map(JobRecord.init(row:)), total)
        }
    }

    // MARK: Helpers

    static func runningJob(_ db: Database, sourceID: Int64) throws -> JobRecord? {
        try db.fetchRow("SELECT \(jobColumns) FROM jobs WHERE source_id = ? AND status = 'running'", [sourceID])
            .map(JobRecord.init(row:))
    }

    static func fetchJob(_ db: Database, name: String) throws -> JobRecord? {
        try db.fetchRow("SELECT \(jobColumns) FROM jobs WHERE job_name = ?", [name]).map(JobRecord.init(row:))
    }

    static func fetchJob(_ db: Database, id: Int64) throws -> JobRecord? {
        try db.fetchRow("SELECT \(jobColumns) FROM jobs WHERE id = ?", [id]).map(JobRecord.init(row:))
    }

    static func setNextFire(_ db: Database, sourceID: Int64, _ next: Date?) throws {
        try db.run("UPDATE sources SET next_fire_at = ? WHERE id = ?", [next.map(StoredTime.millis), sourceID])
    }
}
