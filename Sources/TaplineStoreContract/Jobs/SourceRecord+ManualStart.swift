import Foundation
import TaplineCore

/// What a manual start does, decided once for both stores: refuse with Stitch's reason, or insert
/// the running job, move the due time (when the source is schedulable) and record who asked.
package enum ManualStartPlan: Sendable, Equatable {
    case refuse(ManualStartResult)
    /// `updated` is the source after the start; `setsNextFire`: write its `nextFireAt` (and drop
    /// a pending retry); `event` is the `manual_start` audit row, naming the job.
    case start(updated: SourceRecord, setsNextFire: Bool, event: PlannedEvent)
}

extension SourceRecord {
    /// The manual start of this source, read under its row's lock with whether a destination is
    /// live and whether a job of the source is running. A paused or system-paused source starts
    /// (its pause state is untouched); the checks come in the order Stitch reports them.
    package func manualStartPlan(
        catalog: SourceTypeCatalog, hasDestination: Bool, hasRunningJob: Bool, jobName: String, reason: String?, now: Date
    ) -> ManualStartPlan {
        if let refusal = manualStartRefusal(catalog: catalog) { return .refuse(refusal) }
        guard hasDestination else { return .refuse(.noDestination) }
        guard !hasRunningJob else { return .refuse(.alreadyRunning) }
        return .start(
            updated: afterManualStart(catalog: catalog, now: now), setsNextFire: isSchedulable(in: catalog),
            event: PlannedEvent(kind: .manualStart, reason: reason, detail: jobName))
    }

    /// Why a manual job of this source cannot start, before any job-related check (`nil`: it can).
    package func manualStartRefusal(catalog: SourceTypeCatalog) -> ManualStartResult? {
        guard deletedAt == nil else { return .deleted }
        guard let type = catalog[type] else { return .typeMissing(self.type) }
        let step = configurationStep(type: type)
        return step == .fullyConfigured ? nil : .notConfigured(step)
    }

    /// The source after a manual start at `now`: a plain-interval schedule counts from this start,
    /// as in Stitch, and a pending retry is dropped (the manual job is the new attempt). A source
    /// that is not schedulable is returned unchanged.
    package func afterManualStart(catalog: SourceTypeCatalog, now: Date) -> SourceRecord {
        guard isSchedulable(in: catalog) else { return self }
        var updated = self
        // The manual job stands in for a pending retry: back to the regular occurrence.
        let current = pendingRetry.map(\.resumeAt) ?? nextFireAt
        updated.nextFireAt = NextFirePolicy.afterManualStart(schedule(type: catalog[type]), current: current, startedAt: now)
        updated.pendingRetry = nil
        return updated
    }
}
