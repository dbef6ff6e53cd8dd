import Foundation
import GRDB
import TaplineCore
import TaplineStoreContract

extension Store {
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
    /// - schedules a retry of a failed scheduled job (`policy.retry`) while the source is still
    ///   schedulable and the retry comes before its next regular occurrence;
    /// - system-pauses a source after `failuresBeforeSystemPause` consecutive scheduled
    ///   occurrences failed in their last attempt (stopped jobs do not count; an attempt that is
    ///   retried is not yet a failure; 0 disables), and clears a system pause when a manual job
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
            var retries: [(job: JobRecord, at: Date)] = []
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
                switch try Self.applyCompletionStep(db, job: job, policy: policy, catalog: catalog, now: o.completedAt) {
                case .retried(let at): retries.append((job, at))
                case .systemPaused(let reason): paused.append((job.sourceID, reason))
                case .nothing: break
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
            var result = CompletionResult()
            result.ended = ended
            result.expiredLogs = expired
            result.systemPaused = paused
            result.retries = retries
            return result
        }
    }

    /// The relayed record counts, the confirmed state and the per-stream loads of an ended job.
    static func recordStreams(_ db: Database, job: JobRecord, outcome o: JobOutcome) throws {
        let at = StoredTime.millis(o.completedAt)
        if let text = o.streamRecordsJSON {
            try db.run("UPDATE jobs SET stream_records = ? WHERE id = ?", [text, job.id])
        }
        if let state = o.confirmedState {
            // Compacted by the contract's rule, as PostgreSQL's store does, so both keep the same
            // text; the column's CHECK still refuses anything but a JSON object.
            try db.run(
                """
                INSERT INTO source_state (source_id, state, job_name, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (source_id) DO UPDATE SET state = excluded.state, job_name = excluded.job_name,
                    updated_at = excluded.updated_at
                """,
                [job.sourceID, StoredJSON.compact(state), job.jobName, at])
        }
        for load in o.plannedLoads {
            try db.run(
                """
                INSERT INTO stream_loads (source_id, stream_name, last_batch_loaded_at, error_state, records, job_name, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (source_id, stream_name) DO UPDATE SET
                    last_batch_loaded_at = excluded.last_batch_loaded_at, error_state = excluded.error_state,
                    records = excluded.records, job_name = excluded.job_name, updated_at = excluded.updated_at
                """,
                [job.sourceID, load.stream, load.loadedAt.map(StoredTime.millis), load.errorState, load.records, job.jobName, at])
        }
    }

    /// One ended job's effect on its source: read the source, ask `CompletionPolicy.step`,
    /// write what it says (the same plan PostgreSQL's store carries out).
    static func applyCompletionStep(
        _ db: Database, job: JobRecord, policy: CompletionPolicy, catalog: SourceTypeCatalog, now: Date
    ) throws -> CompletionEffect {
        let source = try fetchSource(db, id: job.sourceID)
        var step = policy.step(after: job, source: source, now: now)
        if case .retry(let at, let attempt, let occurrence, let resumeAt) = step {
            try db.run(
                """
                UPDATE sources SET next_fire_at = ?, retry_attempt = ?, retry_occurrence = ?, retry_resume_at = ?
                WHERE id = ? AND next_fire_at IS NOT NULL
                """,
                [StoredTime.millis(at), attempt, StoredTime.millis(occurrence), StoredTime.millis(resumeAt), job.sourceID])
            if db.changesCount == 1 { return .retried(at) }
            step = policy.stepWithoutRetry
        }
        guard let source else { return .nothing }
        switch step {
        case .none, .retry:
            return .nothing
        case .clearSystemPause(let event):
            try db.run(
                "UPDATE sources SET system_paused_at = NULL, system_pause_reason = NULL, updated_at = ? WHERE id = ?",
                [StoredTime.seconds(now), source.id])
            try appendEvent(db, sourceID: source.id, kind: event.kind, actor: .system, at: now, reason: event.reason, detail: event.detail)
            // Schedulable again: its next fire by the same rule as every other change.
            guard let after = try fetchSource(db, id: source.id) else { return .nothing }
            _ = try refreshSchedule(db, before: source, after: after, catalog: catalog, now: now)
            return .nothing
        case .countFailures(let count):
            // The last attempt of each occurrence: a retried failure is one occurrence, not several.
            let recent = try db.fetchRows(
                """
                SELECT status FROM jobs j WHERE source_id = ? AND trigger = 'scheduled' AND status NOT IN ('stopped', 'running')
                    AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.source_id = j.source_id AND k.scheduled_for = j.scheduled_for
                                    AND k.attempt > j.attempt)
                ORDER BY id DESC LIMIT ?
                """,
                [job.sourceID, count])
            let statuses = recent.compactMap { JobStatus(rawValue: $0["status"]) }
            guard let reason = policy.systemPauseReason(lastAttempts: statuses, after: job),
                try systemPause(db, source: source, reason: reason, now: now)
            else { return .nothing }
            return .systemPaused(reason)
        }
    }
}
