import Logging
import ServiceLifecycle
import TaplineRuntime

/// Runs the scheduler inside the `ServiceGroup`: starts it, and on graceful shutdown stops new
/// starts, lets running jobs finish within the grace period, then stops the rest.
struct SchedulerService: Service {
    let scheduler: Scheduler
    let runner: JobRunner
    let shutdownGraceSeconds: Double
    let logger: Logger

    func run() async throws {
        try scheduler.start()
        try? await gracefulShutdown()
        scheduler.stop()
        logger.notice(
            "shutting down: waiting for running jobs",
            metadata: ["jobs.running": "\(runner.runningCount)", "grace.seconds": "\(shutdownGraceSeconds)"])
        await runner.shutdown(grace: shutdownGraceSeconds)
    }
}
