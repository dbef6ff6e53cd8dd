import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import TaplineAPI
import TaplineCore
import TaplineRuntime
import TaplineStore

#if canImport(Glibc)
import Glibc
#endif

/// The composition root: turns a configuration into a running daemon.
///
/// This is the one place that knows every part: it prepares the state directory, takes the
/// single-instance lock, loads the API tokens, opens the store and wires the HTTP API into one
/// `ServiceGroup` that stops gracefully on SIGTERM and SIGINT.
public struct Daemon: Sendable {
    public let configuration: TaplineConfiguration
    public let stateDirectory: String
    public let store: Store
    public let tokens: TokenSet
    public let runner: JobRunner
    public let scheduler: Scheduler
    public let discovery: DiscoveryRunner
    /// Delivers the webhook outbox (`notifications.webhooks`).
    public let webhooks: WebhookDispatcher
    let notifier: SystemdNotifier
    public let metrics = TaplineMetrics()
    let lock: InstanceLock
    let logger: Logger

    /// Prepares everything that can fail before the daemon starts serving, so a misconfiguration is
    /// reported at once with a clear message and a non-zero exit.
    public init(
        configuration: TaplineConfiguration, logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        self.configuration = configuration
        self.logger = logger
        stateDirectory = configuration.resolvedStateDirectory(environment: environment)
        try Self.makePrivateDirectory(stateDirectory)
        let database = configuration.resolvedDatabase(environment: environment)
        lock = try InstanceLock(path: database + ".lock")
        // A previous life's address is stale: scripts wait for this life's.
        unlink((stateDirectory as NSString).appendingPathComponent("http.address"))
        tokens = try Self.loadTokens(
            configuration: configuration, stateDirectory: stateDirectory, environment: environment, logger: logger)
        store = try Self.openStore(
            database: database, configuration: configuration, stateDirectory: stateDirectory, environment: environment, logger: logger)
        logger.info(
            "store opened",
            metadata: ["db.path": "\(database)", "source_types": "\(configuration.catalog.sorted.map(\.type))"])
        runner = JobRunner(
            store: store, launcher: ProcessPipelineLauncher(), settings: configuration.jobSettings(stateDirectory: stateDirectory),
            logger: logger, metrics: metrics)
        notifier = SystemdNotifier(environment: environment)
        scheduler = Scheduler(
            store: store, runner: runner, settings: configuration.scheduler, stitchClientID: configuration.stitchClientID,
            logger: logger, notifier: notifier, metrics: metrics)
        // The scheduler and discovery learn of every committed change from the store itself
        // (`Store.observe`): whoever wrote it, the API, a job's end or a connection check.
        discovery = DiscoveryRunner(
            store: store, settings: configuration.jobSettings(stateDirectory: stateDirectory), logger: logger)
        store.observe(discovery)
        do {
            webhooks = try WebhookDispatcher(store: store, settings: configuration.notifications, logger: logger, metrics: metrics)
        } catch let error as WebhookSetupError {
            throw SetupError(error.description)
        }
        try Self.bootSweep(store: store, runner: runner, logger: logger)
        if let initial = configuration.initialDestination, let type = configuration.destinationCatalog[initial.type] {
            // The first start only: a destination deleted through the API stays deleted.
            let credentials = Set(type.properties.filter(\.isCredential).map(\.name))
            if try store.createInitialDestination(
                type: initial.type, properties: initial.properties.filter { !credentials.contains($0.key) },
                credentials: initial.properties.filter { credentials.contains($0.key) }, now: Date())
            {
                logger.info("created the initial destination", metadata: ["destination.type": "\(initial.type)"])
            }
        }
    }

    /// Before anything starts: every job a previous life left `running` ends as `interrupted`,
    /// its surviving processes are killed, and every workspace it left is removed.
    static func bootSweep(store: Store, runner: JobRunner, logger: Logger) throws {
        let interrupted = try store.interruptRunningJobs(now: Date())
        let removed = runner.removeLeftoverWorkspaces()
        if removed > 0 {
            logger.notice("removed job directories left by a previous life", metadata: ["directories.count": "\(removed)"])
        }
        guard !interrupted.isEmpty else { return }
        let killed = OrphanSweep.endProcesses(of: interrupted, logger: logger)
        logger.warning(
            "jobs interrupted by the previous shutdown or crash",
            metadata: ["jobs.count": "\(interrupted.count)", "processes.killed": "\(killed)"])
    }

    /// The HTTP application serving the API on the configured address.
    public func application() -> some ApplicationProtocol {
        var dependencies = APIDependencies(
            store: store, tokens: tokens, stitchClientID: configuration.stitchClientID,
            maxBodyBytes: configuration.maxBodyBytes, jobs: RunnerJobControl(runner: runner),
            health: scheduler, metrics: metrics)
        dependencies.bodyTimeout = .milliseconds(Int64(configuration.http.bodyTimeoutSeconds * 1000))
        dependencies.destinationTypes = configuration.destinationCatalog
        let limits = configuration.http
        let addressFile = (stateDirectory as NSString).appendingPathComponent("http.address")
        let logger = self.logger
        let notifier = self.notifier
        let scheduler = self.scheduler
        return Application(
            router: API.router(dependencies),
            server: .http1(
                configuration: .init(
                    idleTimeout: .milliseconds(Int64(limits.idleTimeoutSeconds * 1000)),
                    httpDecoderConfiguration: .init(
                        maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes))),
            configuration: .init(
                address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: "tapline",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            onServerRunning: { channel in
                let address = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
                // Scripts and tests that listen on port 0 read the real address from here.
                try? (address + "\n").write(toFile: addressFile, atomically: true, encoding: .utf8)
                logger.info("API listening", metadata: ["http.address": "\(address)"])
                // Migrations, the boot sweep and the scheduler's start are done by now.
                notifier.ready(status: "listening on \(address); \(scheduler.statusLine)")
            },
            logger: logger
        )
    }

    /// Runs until SIGTERM or SIGINT. Shutdown runs in reverse order: the API stops accepting
    /// work first, then the scheduler lets running jobs finish within the grace period.
    public func run() async throws {
        try scheduler.start()
        let pruner = HistoryPruner(store: store, policy: configuration.retention, logger: logger)
        let schedulerService = SchedulerService(
            scheduler: scheduler, runner: runner, discovery: discovery, store: store, pruner: pruner, notifier: notifier,
            shutdownGraceSeconds: configuration.shutdownGraceSeconds, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                // Stopped in reverse order: the API first, then the scheduler (jobs finish and
                // their ends are queued), the webhook deliveries last.
                services: [
                    .init(service: NotificationService(dispatcher: webhooks, enabled: !configuration.notifications.webhooks.isEmpty)),
                    .init(service: schedulerService), .init(service: application()),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        unlink((stateDirectory as NSString).appendingPathComponent("http.address"))
        logger.info("tapline stopped")
    }

    // MARK: Setup steps

    /// Opens the store with the credentials key (`CredentialsKeyFile`); a key that is missing or
    /// does not open the stored credentials is an error naming the key file.
    static func openStore(
        database: String, configuration: TaplineConfiguration, stateDirectory: String, environment: [String: String],
        logger: Logger
    ) throws -> Store {
        let key = CredentialsKeyFile.location(
            configured: configuration.credentialsKeyFile, stateDirectory: stateDirectory, environment: environment)
        let existed = FileManager.default.fileExists(atPath: key.path)
        let cipher: CredentialCipher
        do {
            cipher = try CredentialsKeyFile.load(path: key.path, generate: key.generate, database: database)
        } catch let error as CredentialsKeyFile.Failure {
            throw SetupError(error.description)
        }
        if !existed { logger.notice("generated the credentials key", metadata: ["key.path": "\(key.path)"]) }
        do {
            let store = try Store.open(path: database, catalog: configuration.catalog, cipher: cipher)
            logger.info("credentials sealed at rest", metadata: ["key.path": "\(key.path)", "key.id": "\(cipher.keyID)"])
            return store
        } catch let error as CredentialKeyError {
            throw SetupError("credentials key file \(key.path): \(error)")
        }
    }

    static func makePrivateDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SetupError("cannot create the state directory \(path): \(error.localizedDescription)")
        }
    }

    /// Tokens from, in order: the configured token file; the systemd credential `token`; the
    /// state directory's `token` file, generated on first start.
    static func loadTokens(
        configuration: TaplineConfiguration, stateDirectory: String, environment: [String: String], logger: Logger
    ) throws -> TokenSet {
        let path: String
        var entries: [TokenFile.Entry]
        if let configured = configuration.tokenFile {
            path = configured
            entries = try TokenFile.read(path: configured)
        } else if let credentials = environment["CREDENTIALS_DIRECTORY"],
            FileManager.default.fileExists(atPath: (credentials as NSString).appendingPathComponent("token"))
        {
            path = (credentials as NSString).appendingPathComponent("token")
            entries = try TokenFile.read(path: path)
        } else {
            path = (stateDirectory as NSString).appendingPathComponent("token")
            if FileManager.default.fileExists(atPath: path) {
                entries = try TokenFile.read(path: path)
            } else {
                entries = try TokenFile.create(path: path)
                logger.notice("generated an API token", metadata: ["token.path": "\(path)"])
            }
        }
        if TokenFile.isReadableByOthers(path: path) {
            logger.warning("the token file is readable by other users; chmod 600 it", metadata: ["token.path": "\(path)"])
        }
        logger.info(
            "API tokens loaded", metadata: ["token.path": "\(path)", "token.names": "\(entries.map(\.name))"])
        return TokenSet(entries.map { ($0.name, $0.token) })
    }
}

/// A setup failure with a message meant for the operator.
public struct SetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
