import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle
import TaplineAPI
import TaplineCluster
import TaplineConsole
import TaplineCore
import TaplineRuntime
import TaplineStore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// The composition root: turns a configuration into a running daemon.
///
/// This is the one place that knows every part: it prepares the state directory, takes the
/// single-instance lock, loads the API tokens, opens the store (SQLite in the state directory,
/// or a cluster's PostgreSQL database with `store:`) and wires the scheduler, the job runner
/// and the HTTP API into one `ServiceGroup` that stops gracefully on SIGTERM and SIGINT.
public struct Daemon: Sendable {
    public let configuration: TaplineConfiguration
    public let stateDirectory: String
    /// The store, and what only a daemon on that store runs.
    let backend: Backend
    public let tokens: TokenSet
    public let runner: JobRunner
    public let scheduler: Scheduler
    public let discovery: DiscoveryRunner
    let notifier: SystemdNotifier
    public let metrics: TaplineMetrics
    let lock: InstanceLock
    let logger: Logger

    enum Backend: Sendable {
        /// SQLite in the state directory, and the webhook deliveries from its outbox.
        case embedded(Store, WebhookDispatcher)
        /// A node of a cluster on a shared PostgreSQL database.
        case cluster(ClusterBackend)
    }

    /// The embedded SQLite store; `nil` for a node of a cluster.
    public var embeddedStore: Store? {
        if case .embedded(let store, _) = backend { return store }
        return nil
    }

    /// The store as the HTTP API sees it.
    var apiStore: any APIStore {
        switch backend {
        case .embedded(let store, _): store
        case .cluster(let cluster): cluster.store
        }
    }

    /// Prepares everything that can fail before the daemon starts serving, so a misconfiguration is
    /// reported at once with a clear message and a non-zero exit. A node of a cluster also
    /// reaches its database here: an unreachable server, a wrong password or a credentials key
    /// that is not the cluster's stops the start.
    public static func make(
        configuration: TaplineConfiguration, logger: Logger,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> Daemon {
        if let cluster = configuration.cluster {
            return try await makeClusterNode(cluster, configuration: configuration, logger: logger, environment: environment)
        }
        return try await makeEmbedded(configuration: configuration, logger: logger, environment: environment)
    }

    init(
        configuration: TaplineConfiguration, stateDirectory: String, backend: Backend, tokens: TokenSet, parts: DaemonParts,
        lock: InstanceLock, logger: Logger
    ) {
        self.configuration = configuration
        self.stateDirectory = stateDirectory
        self.backend = backend
        self.tokens = tokens
        runner = parts.runner
        scheduler = parts.scheduler
        discovery = parts.discovery
        notifier = parts.notifier
        metrics = parts.metrics
        self.lock = lock
        self.logger = logger
    }

    /// The single-node daemon on SQLite.
    static func makeEmbedded(
        configuration: TaplineConfiguration, logger: Logger, environment: [String: String]
    ) async throws -> Daemon {
        let stateDirectory = configuration.resolvedStateDirectory(environment: environment)
        try makePrivateDirectory(stateDirectory)
        let database = configuration.resolvedDatabase(environment: environment)
        let lock = try InstanceLock(path: database + ".lock")
        // A previous life's address is stale: scripts wait for this life's.
        unlink((stateDirectory as NSString).appendingPathComponent("http.address"))
        let tokens = try loadTokens(
            configuration: configuration, stateDirectory: stateDirectory, environment: environment, logger: logger)
        let store = try openStore(
            database: database, configuration: configuration, stateDirectory: stateDirectory, environment: environment, logger: logger)
        logger.info(
            "store opened",
            metadata: ["db.path": "\(database)", "source_types": "\(configuration.catalog.sorted.map(\.type))"])
        let parts = DaemonParts(
            runtime: store, streams: store, configuration: configuration, stateDirectory: stateDirectory,
            environment: environment, logger: logger)
        let webhooks = try await makeWebhooks(store: store, configuration: configuration, metrics: parts.metrics, logger: logger)
        return Daemon(
            configuration: configuration, stateDirectory: stateDirectory, backend: .embedded(store, webhooks), tokens: tokens,
            parts: parts, lock: lock, logger: logger)
    }

    /// The webhook dispatcher on `store`'s outbox, with the configured webhooks written to it.
    static func makeWebhooks(
        store: any WebhookOutbox, configuration: TaplineConfiguration, metrics: TaplineMetrics, logger: Logger
    ) async throws -> WebhookDispatcher {
        do {
            let webhooks = try WebhookDispatcher(store: store, settings: configuration.notifications, logger: logger, metrics: metrics)
            try await webhooks.configure()
            return webhooks
        } catch let error as WebhookSetupError {
            throw SetupError(error.description)
        }
    }

    /// The configured initial destination, its credentials apart.
    static func initialDestination(_ configuration: TaplineConfiguration)
        -> (type: String, properties: [String: String], credentials: [String: String])?
    {
        guard let initial = configuration.initialDestination, let type = configuration.destinationCatalog[initial.type] else {
            return nil
        }
        let credentials = Set(type.properties.filter(\.isCredential).map(\.name))
        return (
            initial.type, initial.properties.filter { !credentials.contains($0.key) },
            initial.properties.filter { credentials.contains($0.key) }
        )
    }

    /// Before anything starts: every job a previous life left `running` ends as `interrupted`,
    /// its surviving processes are killed, and every workspace it left is removed.
    static func bootSweep(store: Store, runner: JobRunner, logger: Logger) throws {
        let interrupted = try store.interruptRunningJobs(now: Date())
        endLeftovers(interrupted: interrupted.count, runner: runner, logger: logger) {
            interrupted.isEmpty ? 0 : OrphanSweep.endProcesses(of: interrupted, logger: logger)
        }
    }

    /// Kills the surviving processes of a previous life's jobs (`kill` returns how many), then
    /// removes every workspace it left (nothing of it runs in them any more), and says what it
    /// found.
    static func endLeftovers(interrupted: Int, runner: JobRunner, logger: Logger, kill: () -> Int) {
        let killed = kill()
        let removed = runner.removeLeftoverWorkspaces()
        if removed > 0 {
            logger.notice("removed job directories left by a previous life", metadata: ["directories.count": "\(removed)"])
        }
        if interrupted > 0 || killed > 0 {
            logger.warning(
                "jobs interrupted by the previous shutdown or crash",
                metadata: ["jobs.count": "\(interrupted)", "processes.killed": "\(killed)"])
        }
    }

    /// The HTTP application serving the API on the configured address.
    public func application() -> some ApplicationProtocol {
        var dependencies = APIDependencies(
            store: apiStore, tokens: tokens, stitchClientID: configuration.stitchClientID,
            maxBodyBytes: configuration.maxBodyBytes, jobs: RunnerJobControl(runner: runner),
            health: scheduler, metrics: metrics)
        dependencies.bodyTimeout = .milliseconds(Int64(configuration.http.bodyTimeoutSeconds * 1000))
        dependencies.destinationTypes = configuration.destinationCatalog
        dependencies.unavailable = Store.unavailableReason
        var advertise: (@Sendable (String) -> Void)?
        if case .cluster(let cluster) = backend {
            dependencies.jobs = ClusterJobControl(runner: runner, store: cluster.store)
            dependencies.logRelay = ClusterLogRelay(
                store: cluster.store, nodeName: cluster.node.identity.name, spoolDirectory: stateDirectory)
            if cluster.settings.advertisedAddress == nil {
                // Other nodes fetch logs from this address: the one it really listens on.
                let node = cluster.node
                let logger = self.logger
                advertise = { address in
                    Task {
                        do {
                            try await node.advertise(address: address)
                        } catch {
                            logger.warning("cannot record this node's address", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
            dependencies.node = cluster.node
            dependencies.unavailable = cluster.unavailableReason
        }
        let advertiseAddress = advertise
        let router = API.router(dependencies)
        let console = Console(consoleDependencies(api: dependencies))
        console.addRoutes(to: router)
        let limits = configuration.http
        let addressFile = (stateDirectory as NSString).appendingPathComponent("http.address")
        let logger = self.logger
        let notifier = self.notifier
        let scheduler = self.scheduler
        return Application(
            router: router,
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
                if let local = channel.localAddress, let port = local.port {
                    // Found without reading docs: the console's address, once it answers.
                    let reachable = Self.reachableAddress(ip: local.ipAddress, port: port)
                    logger.notice("console at http://\(reachable)/ui (sign in with an API token)")
                }
                if let advertiseAddress, let local = channel.localAddress, let port = local.port {
                    advertiseAddress(Self.reachableAddress(ip: local.ipAddress, port: port))
                }
                // Migrations, the boot sweep and the scheduler's start are done by now.
                notifier.ready(status: "listening on \(address); \(scheduler.statusLine)")
            },
            logger: logger
        )
    }

    /// What the console shows beyond the API: the webhooks (their hosts only; a URL's path may
    /// hold a secret) and, on a cluster, its members.
    func consoleDependencies(api: APIDependencies) -> ConsoleDependencies {
        var console = ConsoleDependencies(api: api, logger: logger)
        console.webhooks = configuration.notifications.webhooks.map { hook in
            ConsoleWebhook(
                name: hook.name, host: URL(string: hook.url).flatMap { url in url.host.map { (url.scheme ?? "http") + "://" + $0 } } ?? "?",
                events: hook.events.map(\.rawValue))
        }
        if case .cluster(let cluster) = backend {
            let membership = cluster.membership
            let now = api.now
            console.members = {
                try await membership.members().map { member in
                    let state: String
                    if member.leftAt != nil {
                        state = "left"
                    } else if member.leaseExpiresAt < now() {
                        state = "lease expired"
                    } else {
                        state = "alive"
                    }
                    return ConsoleMember(
                        name: member.name, address: member.address.isEmpty ? nil : member.address, epoch: member.epoch,
                        leaseExpiresAt: member.leaseExpiresAt, state: state)
                }
            }
        }
        return console
    }

    /// `HOST:PORT` another machine can reach a listening socket at: a wildcard address is
    /// replaced by the host name, an IPv6 address is bracketed.
    static func reachableAddress(ip: String?, port: Int) -> String {
        guard let ip, ip != "0.0.0.0", ip != "::" else { return "\(ClusterSettings.hostName ?? "localhost"):\(port)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    /// Runs until SIGTERM or SIGINT. Shutdown runs in reverse order: the API stops accepting
    /// work first, then the scheduler lets running jobs finish within the grace period.
    public func run() async throws {
        switch backend {
        case .embedded(let store, let webhooks):
            // The order a cluster node starts in too (`runClusterNode`, after it joins): the boot
            // sweep, the initial destination, the scheduler, then the services.
            let (runner, logger) = (self.runner, self.logger)
            try await onDispatchQueue { try Self.bootSweep(store: store, runner: runner, logger: logger) }
            if let (type, properties, credentials) = Self.initialDestination(configuration),
                // The first start only: a destination deleted through the API stays deleted.
                try store.createInitialDestination(type: type, properties: properties, credentials: credentials, now: Date())
            {
                logger.info("created the initial destination", metadata: ["destination.type": "\(type)"])
            }
            // The first plan reads every due time: a blocking call, off the cooperative pool.
            let scheduler = self.scheduler
            try await onDispatchQueue { try scheduler.start() }
            let pruner = HistoryPruner(store: store, policy: configuration.retention, logger: logger)
            try await serve(
                store: store, pruner: pruner,
                // Stopped in reverse order: the API first, then the scheduler (jobs finish and
                // their ends are queued), the webhook deliveries last.
                before: [
                    .init(service: NotificationService(dispatcher: webhooks, enabled: !configuration.notifications.webhooks.isEmpty))
                ], after: [])
        case .cluster(let cluster):
            try await runClusterNode(cluster)
        }
        unlink((stateDirectory as NSString).appendingPathComponent("http.address"))
        logger.info("tapline stopped")
    }

    /// Runs the scheduler's service and the API (and `before`/`after` them) in one group until
    /// SIGTERM or SIGINT; the scheduler is started already.
    func serve(
        store: any StreamStore, pruner: HistoryPruner, before: [ServiceGroupConfiguration.ServiceConfiguration],
        after: [ServiceGroupConfiguration.ServiceConfiguration]
    ) async throws {
        let schedulerService = SchedulerService(
            scheduler: scheduler, runner: runner, discovery: discovery, store: store, pruner: pruner, notifier: notifier,
            shutdownGraceSeconds: configuration.shutdownGraceSeconds, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: before + [.init(service: schedulerService)] + after + [.init(service: application())],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// A setup failure with a message meant for the operator.
public struct SetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
