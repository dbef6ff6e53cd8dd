import Foundation
import TaplineStore

extension JobOutcome {
    /// The recorded outcome of a pipeline that ran: stopped jobs show null statuses and
    /// "Terminated" (as Stitch does); otherwise each process's status, and the job succeeds only
    /// if both exited 0.
    public static func from(_ exit: PipelineExit, stopRequested: Bool, at date: Date) -> JobOutcome {
        if stopRequested { return .stopped(at: date) }
        let ok = exit.tap.succeeded && exit.target.succeeded
        return JobOutcome(
            status: ok ? .succeeded : .failed, completedAt: date,
            tapExitStatus: exit.tap.code, tapDescription: exit.tap.succeeded ? nil : "tap \(exit.tap.description)",
            targetExitStatus: exit.target.code,
            targetDescription: exit.target.succeeded ? nil : "target \(exit.target.description)")
    }

    /// A job whose pipeline could not be started.
    public static func launchFailed(_ error: LaunchError, at date: Date) -> JobOutcome {
        let description = error.description
        return error.role == "target"
            ? JobOutcome(status: .failed, completedAt: date, targetExitStatus: 127, targetDescription: description)
            : JobOutcome(status: .failed, completedAt: date, tapExitStatus: 127, tapDescription: description)
    }
}
