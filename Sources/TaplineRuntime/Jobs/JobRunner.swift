import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStore

#if canImport(Glibc)
import Glibc
#endif

/// Learns when a job's slot is free again, so due sources waiting for one can start. (What a
/// job's end changed about its source, a system pause set or cleared, the store announces.)
public protocol JobEndObserver: AnyObject, Sendable {
    func jobEnded(_ job: JobRecord)
}

/// A job could not be prepared for a reason that is not a file-system error.
struct JobPreparationError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A weak reference to the observer, so the runner does not keep the scheduler alive; shared by
/// the runner and its recorder.
final class JobObserverSlot: Sendable {
    private struct Weak {
        weak var value: (any JobEndObserver)?
    }
    private let slot = Mutex(Weak())

    var value: (any JobEndObserver)? { slot.withLock { $0.value } }
    func set(_ observer: any JobEndObserver) { slot.withLock { $0.value = observer } }
}

/// Spawns, supervises and stops replication jobs, and records how they end.
///
/// A job's row is committed (by the scheduler's claim or the manual start) before `start` is
/// called, so a crash between the two leaves a `running` row that the boot sweep reconciles —
/// never a process nobody knows about.
public final class JobRunner: Sendable {
    private struct Running {
        var job: JobRecord
        var pipeline: (any RunningPipeline)?
        var stopRequested = false
    }

    private let store: Store
    private let launcher: any PipelineLauncher
    private let settings: JobSettings
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let recorder: JobRecorder
    private let running = Mutex<[Int64: Running]>([:])
    /// Source log directories known to exist (creating them again for each job is wasted work).
    /// The daemon's environment, read once: jobs inherit it plus their own two variables.
    private let baseEnvironment: [String: String]
    private let observer = JobObserverSlot()
    private let timers = DispatchQueue(label: "tapline.job-timers")
    private let metrics: TaplineMetrics?

    public init(
        store: Store, launcher: any PipelineLauncher, settings: JobSettings, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }, metrics: TaplineMetrics? = nil
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
                keepLogsPerSource: settings.logsPerSource, failuresBeforeSystemPause: settings.failuresBeforeSystemPause))
        self.baseEnvironment = ProcessInfo.processInfo.environment
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
    public var runningCount: Int { running.withLock { $0.count } }

    /// Starts the job whose row was just committed. A pipeline that cannot start ends the job as
    /// failed and system-pauses the source (its command cannot be executed).
    public func start(_ job: JobRecord, source: SourceRecord) {
        let directory = settings.workspace(named: job.jobName)
        running.withLock { $0[job.sourceID] = Running(job: job) }
        launch(job, source: source, directory: directory)
    }

    /// Like `start`, but only registers the job before returning (so a stop that follows at once
    /// finds it) and prepares and spawns it on a dispatch queue: for callers on the cooperative
    /// pool (the API), where the store reads and `posix_spawn` of a launch must not block.
    public func startInBackground(_ job: JobRecord, source: SourceRecord) {
        let directory = settings.workspace(named: job.jobName)
        running.withLock { $0[job.sourceID] = Running(job: job) }
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
                let stopRequested = running.withLock { $0[job.sourceID]?.stopRequested ?? false }
                let outcome = JobOutcome.from(exit, stopRequested: stopRequested, at: now())
                Self.appendSummary(to: spec.logPath, outcome: outcome)
                finish(job, outcome: outcome)
            }
            let stopNow = running.withLock { state -> Bool in
                state[job.sourceID]?.pipeline = pipeline
                return state[job.sourceID]?.stopRequested ?? false
            }
            if stopNow { signalStop(pipeline) }
            let spawnedAt = now()
            recorder.spawned(jobID: job.id, processGroup: pipeline.processGroup, at: spawnedAt, logPath: spec.logPath)
            if let metrics {
                metrics.jobStarted(trigger: job.trigger)
                if let due = job.scheduledFor { metrics.scheduledStart(lateness: spawnedAt.timeIntervalSince(due)) }
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

    /// Stops the source's running job: SIGTERM to its process group, SIGKILL after the grace
    /// period. Returns whether a job was running.
    @discardableResult
    public func stop(sourceID: Int64) -> Bool {
        let pipeline = running.withLock { state -> (any RunningPipeline)?? in
            guard state[sourceID] != nil else { return .none }
            state[sourceID]?.stopRequested = true
            return .some(state[sourceID]?.pipeline)
        }
        guard let pipeline else { return false }
        if let pipeline { signalStop(pipeline) }
        return true
    }

    /// Graceful shutdown: lets running jobs finish for `grace` seconds, then stops the rest and
    /// waits until every outcome is recorded.
    public func shutdown(grace: Double) async {
        let deadline = Date().addingTimeInterval(grace)
        while runningCount > 0, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        let sources = running.withLock { Array($0.keys) }
        if !sources.isEmpty {
            logger.notice("stopping jobs still running at shutdown", metadata: ["jobs.count": "\(sources.count)"])
        }
        for source in sources { stop(sourceID: source) }
        let hardDeadline = Date().addingTimeInterval(settings.stopGraceSeconds + 5)
        while runningCount > 0, Date() < hardDeadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await recorder.drain()
    }

    /// The boot sweep's part for files: removes every job and connection-check workspace a
    /// previous life left (their configuration holds credentials). Called before any job
    /// starts, when no workspace can belong to a running job. Returns how many were removed.
    @discardableResult
    public func removeLeftoverWorkspaces() -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: settings.jobsDirectory)) ?? []
        for entry in entries { JobWorkspace.remove(settings.workspace(named: entry)) }
        return entries.count
    }

    /// Waits until every spawn and outcome reported so far is committed.
    public func waitForRecords() async {
        await recorder.drain()
    }

    // MARK: Internals

    private func signalStop(_ pipeline: any RunningPipeline) {
        pipeline.signal(SIGTERM)
        timers.asyncAfter(deadline: .now() + settings.stopGraceSeconds) { pipeline.signal(SIGKILL) }
    }

    /// Records the outcome; after the commit, frees the source's slot, removes the job directory,
    /// runs `then` and tells the scheduler.
    private func finish(_ job: JobRecord, outcome: JobOutcome, then: (@Sendable () -> Void)? = nil) {
        recorder.completed(jobID: job.id, outcome: outcome) { [self] ended in
            then?()
            // Only this job's own entry and directory: by now the source may already run its
            // next job, whose registration and files must not be touched.
            running.withLock { state in
                if state[job.sourceID]?.job.id == job.id { state[job.sourceID] = nil }
            }
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

    /// Creates the job's private workspace with the tap's and target's configuration files
    /// (mode 0600: they hold credentials), the catalog and the state, and returns the pipeline
    /// to run in the shared working directory.
    private func prepare(_ job: JobRecord, source: SourceRecord, directory: String) throws -> PipelineSpec {
        guard let type = store.catalog[source.type] else {
            throw LaunchError(role: "tap", command: source.type, reason: "the source type is not in the configuration")
        }
        let inputs = try store.jobInputs(sourceID: job.sourceID, withCatalog: type.supportsDiscovery)
        guard let destination = inputs.destination else {
            throw JobPreparationError("there is no destination to load into (it was deleted); create one with POST /v4/destinations")
        }
        guard let destinationType = settings.destinationTypes[destination.type] else {
            throw JobPreparationError("the destination's type \(destination.type) is not in the configuration")
        }
        let workspace = try JobWorkspace.create(directory)
        // One mkdir (EEXIST) per job: a working directory removed by hand would otherwise make
        // every spawn fail as if the tap could not be executed, and system-pause its source.
        try JobWorkspace.makeDirectories(settings.processDirectory)
        // The log (and its source's directory) is created by the relay once the job runs.
        let logDirectory = settings.logDirectory(sourceID: job.sourceID)
        let tapConfig = try workspace.write(Self.tapConfiguration(source: source, type: type), to: "tap-config.json")
        let targetConfig = try workspace.write(
            settings.targetConfigurationFile(
                settings.targetConfig(type: destinationType, properties: destination.properties, credentials: destination.credentials)),
            to: "target-config.json")
        var tapArguments = ["--config", tapConfig]
        if let catalog = inputs.catalog {
            tapArguments += ["--catalog", try workspace.write(Data(catalog.utf8), to: "catalog.json")]
        }
        if let state = inputs.state {
            tapArguments += ["--state", try workspace.write(Data(state.utf8), to: "state.json")]
        }
        var environment = baseEnvironment
        environment["TAPLINE_JOB_NAME"] = job.jobName
        environment["TAPLINE_SOURCE_ID"] = String(job.sourceID)
        return PipelineSpec(
            tap: type.tapCommand + tapArguments,
            target: destinationType.target + ["--config", targetConfig],
            environment: environment, workingDirectory: settings.processDirectory,
            logPath: logDirectory + "/\(job.jobName).log", limits: settings.relayLimits)
    }

    /// Ends the job's log as Stitch ends an extraction log: records per stream, the streams the
    /// target loaded, the exit statuses (`ExtractionLog.summary`).
    static func appendSummary(to path: String, outcome: JobOutcome) {
        let lines = ExtractionLog.summary(
            records: outcome.streamRecords, loaded: outcome.loadedRecords, discoveryExitStatus: outcome.discoveryExitStatus,
            tapExitStatus: outcome.tapExitStatus, targetExitStatus: outcome.targetExitStatus,
            stopped: outcome.status == .stopped, at: outcome.completedAt)
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        _ = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }

    /// The tap's configuration file: the type's defaults, the source's properties and its
    /// credentials, each as the typed value its property declares (`"5432"` of an integer
    /// property is written as `5432`).
    static func tapConfiguration(source: SourceRecord, type: SourceType) throws -> Data {
        var values: [String: String] = [:]
        for spec in type.properties { if let value = spec.defaultValue { values[spec.name] = value } }
        values.merge(source.properties) { $1 }
        values.merge(source.credentials) { $1 }
        var object: [String: Any] = [:]
        for (key, value) in values {
            object[key] = (type.property(named: key)?.configurationValue(value) ?? .string(value)).foundationObject
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
