import Logging
import ServiceLifecycle
import TaplineRuntime
import TaplineStore
import TaplineStoreContract

/// Keeps the scheduler inside the `ServiceGroup`: on graceful shutdown it stops new starts, lets
/// running jobs finish within the grace period, then stops the rest.
struct SchedulerService: Service {
    let scheduler: Scheduler
    let runner: JobRunner
    let discovery: DiscoveryRunner
    let store: any StreamStore
    let pruner: HistoryPruner
    let notifier: SystemdNotifier
    let shutdownGraceSeconds: Double
    let logger: Logger

    /// The scheduler is already started (before the API listens, so `READY=1` means it runs).
    /// Connection checks run in a child task; on shutdown no new check starts and those in
    /// flight end (their taps are not stopped) before this returns.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await discovery.run() }
            // Sources whose discovery never finished (new, or interrupted by a restart) get it now.
            do {
                for source in try await store.sourcesAwaitingCheck() { discovery.checkIfNeeded(source) }
            } catch {
                logger.error("cannot list the sources awaiting a connection check", metadata: ["error": "\(error)"])
            }
            pruner.start()
            try? await gracefulShutdown()
            notifier.stopping()
            scheduler.stop()
            discovery.finish()
            pruner.stop()
            logger.notice(
                "shutting down: waiting for running jobs",
                metadata: ["jobs.running": "\(runner.runningCount)", "grace.seconds": "\(shutdownGraceSeconds)"])
            await runner.shutdown(grace: shutdownGraceSeconds)
        }
    }
}
