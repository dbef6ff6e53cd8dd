import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStore

#if canImport(Glibc)
import Glibc
#endif

extension JobRunner {
    /// Stops the source's running job: SIGTERM to its process group, SIGKILL after the grace
    /// period. Returns whether a job was running.
    @discardableResult
    public func stop(sourceID: Int64) -> Bool {
        let pipeline = running.requestStop(sourceID: sourceID)
        guard let pipeline else { return false }
        if let pipeline { signalStop(pipeline) }
        return true
    }

    /// Graceful shutdown: lets running jobs finish for `grace` seconds, then stops the rest and
    /// waits until every outcome is recorded.
    public func shutdown(grace: Double) async {
        await running.waitUntilEmpty(timeout: grace)
        let sources = running.sourceIDs
        if !sources.isEmpty {
            logger.notice("stopping jobs still running at shutdown", metadata: ["jobs.count": "\(sources.count)"])
        }
        for source in sources { stop(sourceID: source) }
        // SIGKILL follows SIGTERM after the stop grace; then the outcomes need their commit.
        await running.waitUntilEmpty(timeout: settings.policy.stopGraceSeconds + 5)
        await recorder.drain()
    }

    func signalStop(_ pipeline: any RunningPipeline) {
        pipeline.signal(SIGTERM)
        timers.asyncAfter(deadline: .now() + settings.policy.stopGraceSeconds) { pipeline.signal(SIGKILL) }
    }
}
