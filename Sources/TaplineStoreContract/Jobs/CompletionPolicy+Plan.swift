import Foundation
import TaplineCore

/// What one ended job does to its source, decided once for both stores (each reads the job and
/// its source under the source's lock, asks this, and writes what it says).
package enum CompletionStep: Sendable, Equatable {
    /// Nothing beyond the job's own row, loads and state.
    case none
    /// A failed scheduled job is tried again: the due time becomes `at`, the attempt `attempt`,
    /// and the regular occurrence `resumeAt` is kept to go back to.
    case retry(at: Date, attempt: Int, occurrence: Date, resumeAt: Date)
    /// A manual success clears the source's system pause (then its due time is set by the rule
    /// every change uses).
    case clearSystemPause(event: PlannedEvent)
    /// A failed scheduled job with no retry: read the last attempt of the source's `count` latest
    /// scheduled occurrences (stopped jobs left out) and ask `systemPauseReason(lastAttempts:)`.
    case countFailures(count: Int)
}

extension CompletionPolicy {
    /// The step after `job` ended at `now`, given its source as it is now (`nil`: gone). A retry
    /// comes first; a failure that is retried is not yet counted toward a system pause.
    package func step(after job: JobRecord, source: SourceRecord?, now: Date) -> CompletionStep {
        guard let source else { return .none }
        if job.trigger == .manual, job.status == .succeeded {
            guard source.systemPausedAt != nil else { return .none }
            return .clearSystemPause(
                event: PlannedEvent(kind: .systemUnpaused, reason: "manual job \(job.jobName) succeeded", detail: nil))
        }
        guard job.trigger == .scheduled, job.status == .failed else { return .none }
        if let retry = retryStep(after: job, source: source, now: now) { return retry }
        return stepWithoutRetry
    }

    /// A failed scheduled job's step when it gets no retry (none due, or the retry's write found
    /// the due time already cleared): its failure counts toward a system pause.
    package var stepWithoutRetry: CompletionStep {
        failuresBeforeSystemPause > 0 ? .countFailures(count: failuresBeforeSystemPause) : .none
    }

    /// The retry of a failed scheduled job, when one is due: retries configured, the source still
    /// active with a regular due time and no retry already pending, and the retry before the
    /// next regular occurrence (`RetryPolicy.retryAt`).
    package func retryStep(after job: JobRecord, source: SourceRecord, now: Date) -> CompletionStep? {
        guard job.trigger == .scheduled, job.status == .failed, retry.retries > 0, let occurrence = job.scheduledFor,
            source.isActive, let regular = source.nextFireAt, source.pendingRetry == nil,
            let at = retry.retryAt(afterFailedAttempt: job.attempt, endedAt: now, regularNext: regular, unit: unitRandom())
        else { return nil }
        return .retry(at: at, attempt: job.attempt + 1, occurrence: occurrence, resumeAt: regular)
    }

    /// The system pause's reason when the last attempts of the latest scheduled occurrences
    /// (newest first, as `countFailures` asked) all failed and there are enough of them; `nil`
    /// otherwise. The pause itself still goes through `SourceRecord.systemPausePlan`.
    package func systemPauseReason(lastAttempts statuses: [JobStatus], after job: JobRecord) -> String? {
        guard failuresBeforeSystemPause > 0, statuses.count == failuresBeforeSystemPause, statuses.allSatisfy({ $0 == .failed })
        else { return nil }
        return systemPauseReason(lastFailed: job.jobName)
    }
}

/// What carrying out a `CompletionStep` did, for the completion's result.
package enum CompletionEffect: Sendable, Equatable {
    case nothing
    case retried(Date)
    case systemPaused(String)
}
