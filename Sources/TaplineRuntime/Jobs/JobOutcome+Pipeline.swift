import Foundation
import TaplineStoreContract

extension JobOutcome {
    /// The recorded outcome of a pipeline that ran: stopped jobs show null statuses and
    /// "Terminated" (as Stitch does); otherwise each process's status, and the job succeeds only
    /// if both exited 0.
    /// A failed process is described by the stderr line that names the cause (see
    /// `StderrSummary`), else by how it exited. A tap that wrote something that is not a Singer
    /// message fails the job even if both processes then exited 0.
    /// Streams count as loaded only on evidence: records before a state the target confirmed,
    /// or everything relayed when the target exited 0 at the end of its input.
    public static func from(_ exit: PipelineExit, stopRequested: Bool, at date: Date) -> JobOutcome {
        let relay = exit.relay
        let loaded = exit.target.succeeded ? relay.recordsByStream : relay.confirmedRecordsByStream
        if stopRequested {
            var outcome = JobOutcome.stopped(at: date, streamRecords: relay.recordsByStream, confirmedState: relay.lastState)
            outcome.loadedRecords = loaded
            return outcome
        }
        let invalid = relay.invalidTapLine.map { "the tap wrote an invalid Singer message (\($0))" }
        let tapOK = exit.tap.succeeded && invalid == nil
        let ok = tapOK && exit.target.succeeded
        // Discovery (the catalog from the source's connection check) came before the tap: 0, as
        // Stitch shows for every job that got as far as its tap. Pollers read a null
        // discovery_exit_status as "still running".
        return JobOutcome(
            status: ok ? .succeeded : .failed, completedAt: date, discoveryExitStatus: 0,
            tapExitStatus: exit.tap.code,
            tapDescription: tapOK ? nil : invalid ?? relay.tapFailureCause ?? "tap \(exit.tap.description)",
            targetExitStatus: exit.target.code,
            targetDescription: exit.target.succeeded ? nil : relay.targetFailureCause ?? "target \(exit.target.description)",
            streamRecords: relay.recordsByStream, loadedRecords: loaded, confirmedState: relay.lastState)
    }

    /// A job stopped by its timeout: failed (it counts toward the system pause like any failed
    /// scheduled job), with a description that says so; the statuses are how the processes
    /// ended, and what the target proved it loaded and the state it confirmed are kept.
    public static func timedOut(_ exit: PipelineExit, after seconds: Double, at date: Date) -> JobOutcome {
        let relay = exit.relay
        let loaded = exit.target.succeeded ? relay.recordsByStream : relay.confirmedRecordsByStream
        let limit = seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
        let description = "the job ran longer than its timeout (\(limit) s, jobs.timeout_seconds) and was stopped"
        return JobOutcome(
            status: .failed, completedAt: date, discoveryExitStatus: 0, tapExitStatus: exit.tap.code,
            tapDescription: description, targetExitStatus: exit.target.code, targetDescription: description,
            streamRecords: relay.recordsByStream, loadedRecords: loaded, confirmedState: relay.lastState)
    }

    /// A job whose pipeline could not be started.
    public static func launchFailed(_ error: LaunchError, at date: Date) -> JobOutcome {
        let description = error.description
        return error.role == "target"
            ? JobOutcome(
                status: .failed, completedAt: date, discoveryExitStatus: 0, targetExitStatus: 127, targetDescription: description)
            : JobOutcome(status: .failed, completedAt: date, discoveryExitStatus: 0, tapExitStatus: 127, tapDescription: description)
    }

    /// A job that could not be prepared (its files could not be written): it failed before its
    /// tap, in the phase Stitch calls discovery.
    public static func preparationFailed(_ description: String, at date: Date) -> JobOutcome {
        JobOutcome(status: .failed, completedAt: date, discoveryExitStatus: 1, discoveryDescription: description)
    }
}
