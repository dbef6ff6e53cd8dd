import Foundation
import TaplineCore

/// What a start transaction does with one due occurrence, decided from the source row as read
/// under the transaction's lock. Both backends carry it out the same way (`Store` in SQLite,
/// `ClusterStore` in PostgreSQL), so a start, a skip or a refusal cannot differ by backend.
package enum ClaimPlan: Equatable {
    /// Nothing starts. `action` is what the transaction still writes.
    case refuse(NotDueReason, nextFire: Date?, action: RefusalAction)
    /// A job of the source is running: the due time moves to `nextFire` and a `skipped` event
    /// (reason `overlap`) with `detail` is written.
    case overlap(nextFire: Date?, coalesced: Int, detail: String)
    /// Insert attempt `attempt` of `occurrence` (unless that attempt already has its job) and
    /// move the due time to `nextFire`, or to `nextFireIfExisting` when it had.
    case start(occurrence: Date, attempt: Int, nextFire: Date?, nextFireIfExisting: Date?, coalesced: Int)

    package enum RefusalAction: Equatable {
        case none
        /// The source cannot run as configured: system-pause it with this reason.
        case systemPause(String)
        /// No longer schedulable (not fully configured): clear its due time.
        case clearDueTime
    }
}

extension SourceRecord {
    /// The plan for the due `occurrence` of this source (`nil`: the row is gone) at `now`.
    /// `runningJob` names the source's running job; it is read only when the plan needs it.
    package static func claimPlan(
        _ source: SourceRecord?, occurrence: Date, now: Date, catalog: SourceTypeCatalog, hasDestination: Bool,
        runningJob: () throws -> String?
    ) rethrows -> ClaimPlan {
        guard let source, source.deletedAt == nil else { return .refuse(.deleted, nextFire: nil, action: .none) }
        if source.pausedAt != nil { return .refuse(.paused, nextFire: nil, action: .none) }
        if source.systemPausedAt != nil { return .refuse(.systemPaused, nextFire: nil, action: .none) }
        guard let stored = source.nextFireAt, StoredTime.millis(stored) == StoredTime.millis(occurrence) else {
            return .refuse(.moved, nextFire: source.nextFireAt, action: .none)
        }
        guard let type = catalog[source.type] else {
            return .refuse(.notConfigured, nextFire: nil, action: .systemPause("source type \(source.type) is not in the configuration"))
        }
        guard source.isSchedulable(in: catalog) else { return .refuse(.notConfigured, nextFire: nil, action: .clearDueTime) }
        // Nowhere to load: paused until a destination is created, which releases it.
        guard hasDestination else { return .refuse(.systemPaused, nextFire: nil, action: .systemPause(SystemPauseReason.noDestination)) }
        let schedule = source.schedule(type: type)
        if let retry = source.pendingRetry {
            // A retry's due time came: attempt `retry.attempt` of its occurrence, then back to the
            // regular occurrence it stood in front of (if that passed meanwhile, the next one
            // after now, as for any late start). A retry during a running job is dropped, as an
            // overlapping occurrence is.
            let resume = retry.resumeAt.flatMap { at in
                at > now ? at : NextFirePolicy.afterOccurrence(schedule, occurrence: at, startedAt: nil, now: now)
            }
            if let running = try runningJob() {
                return .overlap(
                    nextFire: resume, coalesced: 0,
                    detail:
                        "attempt \(retry.attempt) of occurrence \(StoredTime.millis(retry.occurrence)) fell while \(running) was running")
            }
            return .start(occurrence: retry.occurrence, attempt: retry.attempt, nextFire: resume, nextFireIfExisting: resume, coalesced: 0)
        }
        // A start later than its occurrence stands for the occurrences that passed meanwhile.
        let late = NextFirePolicy.coalesced(schedule, occurrence: occurrence, now: now)
        let notStarted = NextFirePolicy.afterOccurrence(schedule, occurrence: occurrence, startedAt: nil, now: now)
        if let running = try runningJob() {
            return .overlap(
                nextFire: notStarted, coalesced: late,
                detail: "occurrence \(StoredTime.millis(occurrence)) fell while \(running) was running")
        }
        return .start(
            occurrence: occurrence, attempt: 1,
            nextFire: NextFirePolicy.afterOccurrence(schedule, occurrence: occurrence, startedAt: now, now: now),
            nextFireIfExisting: notStarted, coalesced: late)
    }
}

extension CoalescingLedger {
    /// The `skipped` event (reason `coalesced`) that `count` late occurrences of a source call
    /// for now, if one is due (at most one an hour per source), as its detail text.
    package func eventDetail(adding count: Int, sourceID: Int64, at now: Date) -> String? {
        guard count > 0, let report = add(count, sourceID: sourceID, at: now) else { return nil }
        return
            "\(report.count) occurrence(s) since \(StoredTime.millis(report.since)) passed while a start was late; each late start ran once for them"
    }
}
