import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

extension JobRunner {
    /// Stops the source's running job (`jobName`: only if it is that one): SIGTERM to its
    /// process group, SIGKILL after the grace period. Returns whether such a job was running.
    @discardableResult
    public func stop(sourceID: Int64, jobName: String? = nil) -> Bool {
        let pipeline = running.requestStop(sourceID: sourceID, jobName: jobName)
        guard let pipeline else { return false }
        if let pipeline { signalStop(pipeline) }
        return true
    }

    /// Stops every running job at once (SIGTERM, SIGKILL after the stop grace) and returns how
    /// many: a node of a cluster whose lease is about to end must not be running anything when
    /// the other nodes take its share. Their outcomes are recorded as for any stop.
    @discardableResult
    public func stopAll() -> Int {
        running.sourceIDs.reduce(0) { count, source in stop(sourceID: source) ? count + 1 : count }
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
