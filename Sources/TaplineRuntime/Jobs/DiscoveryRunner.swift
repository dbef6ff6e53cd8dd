import CTaplineSys
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// Runs connection checks: the tap in discovery mode (`tap --config … --discover`), whose
/// catalog becomes the source's streams.
///
/// A source of a type with discovery is checked once its form is complete and it has no streams
/// yet; the report card then moves from `discover_schema` to `field_selection`.
public final class DiscoveryRunner: StoreObserver {
    private let store: any StreamStore
    private let settings: JobSettings
    private let selfExecutable: String
    private let logger: Logger
    private let now: @Sendable () -> Date
    /// Sources to check, in the order asked; consumed by `run()`.
    private let requests = AsyncStream<SourceRecord>.makeStream()

    public init(
        store: any StreamStore, settings: JobSettings, logger: Logger,
        selfExecutable: String = ProcessPipelineLauncher.currentExecutable(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.settings = settings
        self.selfExecutable = selfExecutable
        self.logger = logger
        self.now = now
    }

    /// A source was created or edited: its form may have just become complete, or been fixed.
    public func sourcesChanged(_ changes: [SourceChange]) {
        for change in changes { if let source = change.edited { checkIfNeeded(source) } }
    }

    /// Asks for a check if the source needs one, once its form is complete: a type with
    /// discovery until its streams are found; a type with a declared check when it has none yet,
    /// or when its last one failed and the source changed since (its settings were fixed).
    /// Returns at once: the check runs in `run()`'s task group.
    public func checkIfNeeded(_ source: SourceRecord) {
        guard source.deletedAt == nil, let type = store.catalog[source.type], type.hasConnectionCheck,
            ConfigurationStep.current(for: type, providedProperties: source.providedProperties) != .form
        else { return }
        if type.supportsDiscovery, source.discovered { return }
        requests.continuation.yield(source)
    }

    /// Runs every requested check, each a child task of this one, until `finish()` is called
    /// and the checks in flight have ended. The service owns this task; nothing else starts
    /// tasks for checks.
    public func run() async {
        await withDiscardingTaskGroup { group in
            for await source in requests.stream {
                guard let type = store.catalog[source.type] else { continue }
                group.addTask { await self.checkIfStillNeeded(source, type: type) }
            }
        }
    }

    /// No more checks are taken; `run()` returns once those in flight have ended.
    public func finish() {
        requests.continuation.finish()
    }

    private func checkIfStillNeeded(_ source: SourceRecord, type: SourceType) async {
        if !type.supportsDiscovery, let last = try? await store.lastConnectionCheck(sourceID: source.id) {
            guard last.status == "failed", source.updatedAt.timeIntervalSince1970 >= last.startedAt.timeIntervalSince1970.rounded(.down)
            else { return }
        }
        await check(source, type: type)
    }

    /// Runs one check now and waits for it.
    public func check(_ source: SourceRecord, type: SourceType) async {
        let name = "\(settings.stitchClientID).\(source.id).check.\(JobName.uuidV1(at: now()))"
        guard (try? await store.startConnectionCheck(sourceID: source.id, name: name, now: now())) == true else { return }
        let result: (exit: Int, error: String?, streams: [DiscoveredStream]?)
        do {
            result = try await Self.discover(
                source: source, type: type, directory: settings.workspace(named: name),
                workingDirectory: settings.processDirectory, selfExecutable: selfExecutable)
        } catch {
            result = (127, "\(error)", nil)
        }
        // A declared check has no catalog to read: its exit status is the answer.
        logger.info(
            "connection check ended",
            metadata: [
                "source.id": "\(source.id)", "check.name": "\(name)", "check.exit_status": "\(result.exit)",
                "streams.count": "\(result.streams?.count ?? 0)",
            ])
        do {
            // What the check changed about the source's schedule reaches the scheduler through the
            // store's announcement of the commit.
            _ = try await store.finishConnectionCheck(
                name: name, exitStatus: result.exit, errorMessage: result.error, streams: result.streams, now: now())
        } catch {
            logger.error("cannot record a connection check", metadata: ["check.name": "\(name)", "error": "\(error)"])
        }
    }

    /// Spawns the tap in discovery mode on a dedicated thread and parses its catalog. Its
    /// configuration goes in a workspace of the check's own; it runs in the shared working
    /// directory, as jobs do.
    static func discover(
        source: SourceRecord, type: SourceType, directory: String, workingDirectory: String, selfExecutable: String
    ) async throws -> (exit: Int, error: String?, streams: [DiscoveredStream]?) {
        let workspace = try JobWorkspace.create(directory)
        defer { JobWorkspace.remove(directory) }
        try JobWorkspace.makeDirectories(workingDirectory)
        let config = try workspace.write(JobRunner.tapConfiguration(source: source, type: type), to: "tap-config.json")
        let readsCatalog = type.supportsDiscovery || type.checkCommand == nil
        let command = ProcessPipelineLauncher.resolve(
            readsCatalog ? type.tapCommand + ["--config", config, "--discover"] : type.checkCommand! + ["--config", config],
            selfExecutable: selfExecutable)
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try runToCompletion(command, directory: workingDirectory, readsCatalog: readsCatalog) })
            }
            thread.name = "tapline-discovery"
            thread.start()
        }
    }

    private static func runToCompletion(_ argv: [String], directory: String, readsCatalog: Bool) throws
        -> (exit: Int, error: String?, streams: [DiscoveredStream]?)
    {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard tapline_pipe_cloexec(&out) == 0, tapline_pipe_cloexec(&err) == 0 else {
            throw LaunchError(role: "tap", command: argv[0], reason: String(cString: strerror(errno)))
        }
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let pid: pid_t
        do {
            pid = try ProcessSpawn.spawn(
                argv, role: "tap", environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" },
                stdin: devNull, stdout: out[1], stderr: err[1], cwd: directory)
        } catch let error as LaunchError {
            [devNull, out[0], out[1], err[0], err[1]].forEach { close($0) }
            return (127, error.description, nil)
        }
        close(devNull)
        close(out[1])
        close(err[1])
        defer {
            close(out[0])
            close(err[0])
        }
        // Read stderr on the side so a chatty tap cannot block on a full pipe; keep only the
        // line that names the cause.
        let summary = Mutex(StderrSummary())
        let errFD = err[0]
        let drained = DispatchSemaphore(value: 0)
        let drain = Thread {
            defer { drained.signal() }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = read(errFD, &buffer, buffer.count)
                if n <= 0 { break }
                summary.withLock { $0.take(buffer[0..<n]) }
            }
            summary.withLock { $0.finish() }
        }
        drain.start()
        var catalog = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(out[0], &buffer, buffer.count)
            if n <= 0 { break }
            guard catalog.count < 64 << 20 else {
                kill(pid, SIGKILL)
                break
            }
            catalog.append(contentsOf: buffer[0..<n])
        }
        let exit = ProcessSpawn.reap(pid)?.code ?? -1
        drained.wait()
        let cause = summary.withLock { $0.cause }
        guard exit == 0 else { return (exit, cause ?? "the tap exited with status \(exit)", nil) }
        guard readsCatalog else { return (0, nil, nil) }
        guard let streams = parseCatalog(catalog) else { return (1, "the tap's catalog is not valid JSON with a streams list", nil) }
        return (0, nil, streams)
    }

    /// Reads a Singer catalog: `{"streams": [{"tap_stream_id", "stream", "schema", "metadata", …}]}`.
    /// Each entry is kept whole (`catalogEntry`), whatever keys the tap's dialect has.
    static func parseCatalog(_ data: Data) -> [DiscoveredStream]? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let streams = object["streams"] as? [[String: Any]]
        else { return nil }
        func text(_ value: Any) -> String? {
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) }
        }
        return streams.compactMap { entry in
            guard let id = entry["tap_stream_id"] as? String ?? entry["stream"] as? String else { return nil }
            return DiscoveredStream(
                tapStreamID: id, streamName: entry["stream"] as? String ?? id, schema: text(entry["schema"] ?? [:]) ?? "{}",
                metadata: text(entry["metadata"] ?? []) ?? "[]", catalogEntry: text(entry))
        }
    }
}
