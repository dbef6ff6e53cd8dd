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

extension Store {
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
        if let retry = source.pendingRetry {
            return try claimRetry(db, source: source, retry: retry, schedule: schedule, now: now, jobName: jobName)
        }
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
        let inserted = try insertScheduledJob(db, name: name, sourceID: sourceID, occurrence: occurrence, attempt: 1, now: now)
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

    /// A retry's due time came: attempt `retry.attempt` of its occurrence starts, through the same
    /// checks as every scheduled start (the caller has checked the pause columns and the due time).
    /// The source then goes back to its regular next occurrence. A retry that falls while a job of
    /// the source runs is dropped, as an overlapping occurrence is.
    private static func claimRetry(
        _ db: Database, source: SourceRecord, retry: PendingRetry, schedule: Schedule, now: Date, jobName: (Int64) -> String
    ) throws -> ClaimResult {
        // The regular occurrence the retry stood in front of; if it passed meanwhile (a late
        // scheduler), the next one after now, as for any late start.
        let resume = retry.resumeAt.flatMap { at in
            at > now ? at : NextFirePolicy.afterOccurrence(schedule, occurrence: at, startedAt: nil, now: now)
        }
        try setNextFire(db, sourceID: source.id, resume)
        if let running = try runningJob(db, sourceID: source.id) {
            try appendEvent(
                db, sourceID: source.id, kind: .skipped, actor: .system, at: now, reason: "overlap",
                detail: "attempt \(retry.attempt) of occurrence \(StoredTime.millis(retry.occurrence)) fell while \(running.jobName) was running")
            return .skippedOverlap(sourceID: source.id, nextFire: resume)
        }
        let name = jobName(source.id)
        guard try insertScheduledJob(db, name: name, sourceID: source.id, occurrence: retry.occurrence, attempt: retry.attempt, now: now),
            let job = try fetchJob(db, name: name)
        else { return .notDue(sourceID: source.id, nextFire: resume, reason: .moved) }
        var updated = source
        updated.nextFireAt = resume
        updated.pendingRetry = nil
        return .started(job, source: updated, nextFire: resume)
    }

    /// Inserts attempt `attempt` of a scheduled occurrence; false when that attempt already has its
    /// job (it started before a crash): never twice.
    private static func insertScheduledJob(
        _ db: Database, name: String, sourceID: Int64, occurrence: Date, attempt: Int, now: Date
    ) throws -> Bool {
        try db.run(
            """
            INSERT INTO jobs (job_name, source_id, trigger, scheduled_for, attempt, status, started_at)
            VALUES (?, ?, 'scheduled', ?, ?, 'running', ?)
            ON CONFLICT DO NOTHING
            """,
            [name, sourceID, StoredTime.millis(occurrence), attempt, StoredTime.millis(now)])
        return db.changesCount == 1
    }
}
