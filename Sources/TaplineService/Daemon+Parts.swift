import Foundation
import Logging
import TaplineRuntime
import TaplineStore
import TaplineStoreContract

/// The parts every daemon runs, whichever database holds its store: built once here, so the
/// single node and a node of a cluster wire the runner, the scheduler and discovery alike.
struct DaemonParts {
    let metrics: TaplineMetrics
    let runner: JobRunner
    let scheduler: Scheduler
    let discovery: DiscoveryRunner
    let notifier: SystemdNotifier

    /// `runtime`: the store as the runner and the scheduler call it (blocking, from their
    /// queues); `streams`: the store discovery writes to and hears every committed change from;
    /// `node`: the cluster node's name, which labels every metric (`nil` on a single node);
    /// `jobMarker`: the job guard's token, set as `TAPLINE_GUARD` on every job process.
    init(
        runtime: any RunnerStore & SchedulerStore, streams: any StreamStore & SourceStore, configuration: TaplineConfiguration,
        stateDirectory: String, environment: [String: String], logger: Logger, node: String? = nil, jobMarker: String? = nil
    ) {
        metrics = TaplineMetrics(node: node)
        let settings = configuration.jobSettings(stateDirectory: stateDirectory, environment: environment)
        var jobEnvironment = ProcessInfo.processInfo.environment
        if let jobMarker { jobEnvironment[JobGuardWatch.variable] = jobMarker }
        runner = JobRunner(
            store: runtime, launcher: ProcessPipelineLauncher(), settings: settings, logger: logger, metrics: metrics,
            environment: jobEnvironment)
        notifier = SystemdNotifier(environment: environment)
        scheduler = Scheduler(
            store: runtime, runner: runner, settings: configuration.scheduler, stitchClientID: configuration.stitchClientID,
            logger: logger, notifier: notifier, metrics: metrics)
        // The scheduler and discovery learn of every committed change from the store itself,
        // whoever wrote it (the API, a job's end, a connection check, or another node).
        discovery = DiscoveryRunner(store: streams, settings: settings, logger: logger)
        streams.observe(discovery)
    }
}

extension Daemon {
    /// Runs a blocking call (the scheduler's first plan, a cluster sweep) on a dispatch thread,
    /// so it never holds a thread of the cooperative pool the API answers on.
    func onDispatchQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
