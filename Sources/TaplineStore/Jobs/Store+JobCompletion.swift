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
                if let at = try Self.scheduleRetry(db, job: job, policy: policy, now: o.completedAt) {
                    retries.append((job, at))
                } else if let reason = try Self.applyPausePolicy(
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
            try db.run(
                """
                INSERT INTO source_state (source_id, state, job_name, updated_at) VALUES (?, json(?), ?, ?)
                ON CONFLICT (source_id) DO UPDATE SET state = excluded.state, job_name = excluded.job_name,
                    updated_at = excluded.updated_at
                """,
                [job.sourceID, state, job.jobName, at])
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
        // The last attempt of each occurrence: a retried failure is one occurrence, not several.
        let recent = try db.fetchRows(
            """
            SELECT status FROM jobs j WHERE source_id = ? AND trigger = 'scheduled' AND status NOT IN ('stopped', 'running')
                AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.source_id = j.source_id AND k.scheduled_for = j.scheduled_for
                                AND k.attempt > j.attempt)
            ORDER BY id DESC LIMIT ?
            """,
            [job.sourceID, policy.failuresBeforeSystemPause])
        guard recent.count == policy.failuresBeforeSystemPause, recent.allSatisfy({ $0["status"] as String == "failed" }),
            let source = try fetchSource(db, id: job.sourceID)
        else { return nil }
        let reason = policy.systemPauseReason(lastFailed: job.jobName)
        guard try systemPause(db, source: source, reason: reason, now: now) else { return nil }
        return reason
    }

    /// Schedules the next attempt of a failed scheduled job: the source's due time becomes the
    /// retry's and its regular next occurrence is kept to go back to. Returns when it is due, or
    /// `nil` when there is no retry (not a failed scheduled job, attempts used up, the source no
    /// longer schedulable, or the retry would not come before the next regular occurrence).
    static func scheduleRetry(_ db: Database, job: JobRecord, policy: CompletionPolicy, now: Date) throws -> Date? {
        guard job.trigger == .scheduled, job.status == .failed, policy.retry.retries > 0,
            let occurrence = job.scheduledFor,
            let source = try fetchSource(db, id: job.sourceID), source.isActive,
            let regular = source.nextFireAt, source.pendingRetry == nil
        else { return nil }
        guard let at = policy.retry.retryAt(
            afterFailedAttempt: job.attempt, endedAt: now, regularNext: regular, unit: policy.unitRandom())
        else { return nil }
        try db.run(
            """
            UPDATE sources SET next_fire_at = ?, retry_attempt = ?, retry_occurrence = ?, retry_resume_at = ?
            WHERE id = ? AND next_fire_at IS NOT NULL
            """,
            [StoredTime.millis(at), job.attempt + 1, StoredTime.millis(occurrence), StoredTime.millis(regular), source.id])
        return db.changesCount == 1 ? at : nil
    }
}
