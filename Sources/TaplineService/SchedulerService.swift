import Logging
import ServiceLifecycle
import TaplineRuntime
import TaplineStore

/// Runs the scheduler inside the `ServiceGroup`: starts it, and on graceful shutdown stops new
/// starts, lets running jobs finish within the grace period, then stops the rest.
struct SchedulerService: Service {
    let scheduler: Scheduler
    let runner: JobRunner
    let discovery: DiscoveryRunner
    let store: Store
    let shutdownGraceSeconds: Double
    let logger: Logger

    func run() async throws {
        try scheduler.start()
        // Sources whose discovery never finished (new, or interrupted by a restart) get it now.
        for source in try await store.allSources() { discovery.checkIfNeeded(source) }
        try? await gracefulShutdown()
        scheduler.stop()
        logger.notice(
            "shutting down: waiting for running jobs",
            metadata: ["jobs.running": "\(runner.runningCount)", "grace.seconds": "\(shutdownGraceSeconds)"])
        await runner.shutdown(grace: shutdownGraceSeconds)
    }
}
