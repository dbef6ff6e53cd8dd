import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// Spawns, supervises and stops replication jobs, and records how they end.
///
/// A job's row is committed (by the scheduler's claim or the manual start) before `start` is
/// called, so a crash between the two leaves a `running` row that the boot sweep reconciles —
/// never a process nobody knows about.
///
/// Its files: this one (start, launch, finish), `+Stop` (stop and shutdown), `+Prepare` (a
/// job's workspace and configuration files), `+LogSummary` (the end of a job's log);
/// `JobRegistry` holds the running jobs, `JobRecorder` commits spawns and outcomes.
public final class JobRunner: Sendable {
    let store: any RunnerStore
    let launcher: any PipelineLauncher
    let settings: JobSettings
    let now: @Sendable () -> Date
    let logger: Logger
    let recorder: JobRecorder
    let running = JobRegistry()
    /// The daemon's environment, read once (with `TAPLINE_GUARD` on a node of a cluster): jobs
    /// inherit it plus their own two variables.
    let baseEnvironment: [String: String]
    let observer = JobObserverSlot()
    let timers = DispatchQueue(label: "tapline.job-timers")
    let metrics: TaplineMetrics?

    public init(
        store: any RunnerStore, launcher: any PipelineLauncher, settings: JobSettings, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }, metrics: TaplineMetrics? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.metrics = metrics
        self.store = store
        self.launcher = launcher
        self.settings = settings
        self.now = now
        self.logger = logger
        self.recorder = JobRecorder(
            store: store, logger: logger,
            policy: CompletionPolicy(
                keepLogsPerSource: settings.policy.logsPerSource, failuresBeforeSystemPause: settings.policy.failuresBeforeSystemPause,
                retry: settings.policy.retry))
        self.baseEnvironment = environment
        // Made once here; each source's directory below it is made by the relay of its first job.
        // A failure shows up then, as a job that ran without its log.
        try? FileManager.default.createDirectory(
            atPath: settings.logsDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Told after each job's outcome is committed (the scheduler uses it to fill freed slots).
    /// Held weakly: the scheduler owns the runner, not the other way round.
    public func setObserver(_ observer: any JobEndObserver) {
        self.observer.set(observer)
    }

    /// The number of jobs currently running.
    public var runningCount: Int { running.count }

    /// Starts the job whose row was just committed. A pipeline that cannot start ends the job as
    /// failed and system-pauses the source (its command cannot be executed).
    public func start(_ job: JobRecord, source: SourceRecord) {
        let directory = settings.workspace(named: job.jobName)
        running.register(job)
        launch(job, source: source, directory: directory)
    }

    /// Like `start`, but only registers the job before returning (so a stop that follows at once
    /// finds it) and prepares and spawns it on a dispatch queue: for callers on the cooperative
    /// pool (the API), where the store reads and `posix_spawn` of a launch must not block.
    public func startInBackground(_ job: JobRecord, source: SourceRecord) {
        let directory = settings.workspace(named: job.jobName)
        running.register(job)
        DispatchQueue.global(qos: .userInitiated).async { self.launch(job, source: source, directory: directory) }
    }

    private func launch(_ job: JobRecord, source: SourceRecord, directory: String) {
        let spec: PipelineSpec
        do {
            spec = try prepare(job, source: source, directory: directory)
        } catch {
            logger.error("cannot prepare job", metadata: ["job.name": "\(job.jobName)", "error": "\(error)"])
            finish(job, outcome: .preparationFailed("cannot prepare the job: \(error)", at: now()))
            return
        }
        do {
            let pipeline = try launcher.launch(spec) { [self] exit in
                if let problem = exit.relay.logError {
                    logger.warning("job ran without its log", metadata: ["job.name": "\(job.jobName)", "error": "\(problem)"])
                }
                let outcome: JobOutcome
                switch running.stopReason(job) {
                case nil: outcome = JobOutcome.from(exit, stopRequested: false, at: now())
                case .caller: outcome = JobOutcome.from(exit, stopRequested: true, at: now())
                case .timeout(let seconds): outcome = JobOutcome.timedOut(exit, after: seconds, at: now())
                }
                Self.appendSummary(to: spec.logPath, outcome: outcome)
                finish(job, outcome: outcome)
            }
            let stopNow = running.attach(pipeline, to: job)
            if stopNow { signalStop(pipeline) }
            let timeout = store.catalog[source.type]?.timeoutSeconds ?? settings.policy.timeoutSeconds
            if timeout > 0 {
                // A timer of the job's own, cancelled when the job leaves the registry: a queued
                // block per job would outlive short jobs by the whole timeout (an hour's timeout
                // at hundreds of jobs a second is a million pending blocks).
                let timer = JobTimeoutTimer(queue: timers, after: timeout) { [self] in
                    guard let pipeline = running.timeOut(job, after: timeout) else { return }
                    logger.warning(
                        "job timed out; stopping it",
                        metadata: ["job.name": "\(job.jobName)", "timeout.seconds": "\(timeout)"])
                    signalStop(pipeline)
                }
                running.attach(timer, to: job)
            }
            let spawnedAt = now()
            recorder.spawned(jobID: job.id, processGroup: pipeline.processGroup, at: spawnedAt, logPath: spec.logPath)
            if let metrics {
                metrics.jobStarted(job)
                // A retry is due after its occurrence by design: lateness is a first attempt's.
                if let due = job.scheduledFor, job.attempt == 1 { metrics.scheduledStart(lateness: spawnedAt.timeIntervalSince(due)) }
                metrics.setRunning(runningCount)
            }
            logger.info(
                "job started",
                metadata: ["job.name": "\(job.jobName)", "source.id": "\(job.sourceID)", "job.trigger": "\(job.trigger.rawValue)"])
        } catch let error as LaunchError {
            logger.warning("job cannot start", metadata: ["job.name": "\(job.jobName)", "error": "\(error)"])
            finish(job, outcome: .launchFailed(error, at: now())) { [store, now, logger] in
                // The command cannot be executed: scheduled runs would only fail again.
                do {
                    try store.recordSystemPause(sourceID: job.sourceID, reason: error.description, now: now())
                    logger.warning("source system paused", metadata: ["source.id": "\(job.sourceID)", "reason": "\(error.description)"])
                } catch {
                    logger.error("cannot system-pause the source", metadata: ["source.id": "\(job.sourceID)", "error": "\(error)"])
                }
            }
        } catch {
            finish(job, outcome: .preparationFailed("\(error)", at: now()))
        }
    }

    /// Waits until every spawn and outcome reported so far is committed.
    public func waitForRecords() async {
        await recorder.drain()
    }

    /// Records the outcome; after the commit, frees the source's slot, removes the job directory,
    /// runs `then` and tells the scheduler.
    private func finish(_ job: JobRecord, outcome: JobOutcome, then: (@Sendable () -> Void)? = nil) {
        recorder.completed(jobID: job.id, outcome: outcome) { [self] ended in
            then?()
            // Only this job's own entry and directory: by now the source may already run its
            // next job, whose registration and files must not be touched.
            running.remove(job)
            JobWorkspace.remove(settings.workspace(named: job.jobName))
            logger.info(
                "job ended",
                metadata: [
                    "job.name": "\(job.jobName)", "source.id": "\(job.sourceID)", "job.status": "\(outcome.status.rawValue)",
                    "job.tap_exit_status": "\(outcome.tapExitStatus.map(String.init) ?? "null")",
                    "job.target_exit_status": "\(outcome.targetExitStatus.map(String.init) ?? "null")",
                ])
            if let ended, let metrics {
                metrics.jobEnded(ended)
                metrics.setRunning(runningCount)
            }
            if let ended, let observer = observer.value { observer.jobEnded(ended) }
        }
    }
}
