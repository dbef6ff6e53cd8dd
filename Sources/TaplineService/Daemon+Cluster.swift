import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import TaplineCluster
import TaplineCore
import TaplineRuntime
import TaplineStore
import TaplineStoreContract

/// What a node of a cluster runs beside the parts every daemon has: the database's pool, the
/// store on it, and the node's membership.
struct ClusterBackend: Sendable {
    let settings: ClusterSettings
    let database: ClusterDatabase
    let store: ClusterStore
    /// The store as the scheduler, the runner and the pruner call it (blocking, off the pool).
    let runtime: ClusterRuntimeStore
    let membership: ClusterMembership
    let node: ClusterNode
    /// Sends the deliveries this node claims from the cluster's outbox.
    let webhooks: WebhookDispatcher
    /// Runs the connection pool from the start of setup until the node has stopped.
    let pool: Task<Void, Never>
    /// The job guard of this life; kept for the daemon's lifetime (its pipe closes with it).
    let jobGuard: JobGuardLink

    /// The reason a request's error is a 503 (`APIDependencies.unavailable`).
    var unavailableReason: @Sendable (any Error) -> String? { ClusterStore.unavailableReason }
}

extension Daemon {
    /// A node of a cluster: reaches the database, migrates it, checks the credentials key
    /// against the cluster's, and wires the parts to the PostgreSQL store. The node joins the
    /// cluster when it runs (`runClusterNode`).
    static func makeClusterNode(
        _ cluster: ClusterSettings, configuration: TaplineConfiguration, logger: Logger, environment: [String: String]
    ) async throws -> Daemon {
        let timings = cluster.leaseTimings(stopGrace: configuration.jobs.stopGraceSeconds)
        if let problem = timings.problem { throw SetupError("node: \(problem)") }
        let stateDirectory = configuration.resolvedStateDirectory(environment: environment)
        try makePrivateDirectory(stateDirectory)
        // One daemon per state directory: its job directories and logs are this node's alone.
        let lock = try InstanceLock(path: (stateDirectory as NSString).appendingPathComponent("tapline.lock"))
        // Logs fetched from other nodes by a previous life and never served (ClusterLogRelay).
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
        where entry.hasPrefix("relayed-") && entry.hasSuffix(".log") {
            unlink((stateDirectory as NSString).appendingPathComponent(entry))
        }
        unlink((stateDirectory as NSString).appendingPathComponent("http.address"))
        let tokens = try loadTokens(
            configuration: configuration, stateDirectory: stateDirectory, environment: environment, logger: logger)
        let password = try readStorePassword(cluster, environment: environment, logger: logger)
        let database = ClusterDatabase(location: cluster.location, password: password, logger: logger)
        let pool = Task { await database.run() }
        do {
            do {
                try await database.verifyConnection()
                try await database.migrate()
            } catch let error as ClusterDatabaseError {
                throw SetupError("store: \(error)")
            }
            let name = cluster.resolvedNodeName
            let cipher = try await clusterCipher(
                database: database, configuration: configuration, stateDirectory: stateDirectory, environment: environment,
                logger: logger)
            let store = ClusterStore(database: database, catalog: configuration.catalog, cipher: cipher)
            do {
                try await store.adoptCredentialsKey(cipher.keyID, node: name)
            } catch let error as ClusterKeyError {
                throw SetupError("credentials key: \(error)")
            }
            logger.info(
                "cluster store opened",
                metadata: [
                    "store": "\(cluster.location)", "node.name": "\(name)", "key.id": "\(cipher.keyID)",
                    "source_types": "\(configuration.catalog.sorted.map(\.type))",
                ])
            let runtime = ClusterRuntimeStore(store: store, unattendedAfter: cluster.leaseSeconds + cluster.reapGraceSeconds)
            // Ends this node's jobs at its fence point if the daemon, frozen, cannot (JobGuard).
            let jobGuard = try JobGuardLink(
                executable: ProcessPipelineLauncher.currentExecutable(), grace: configuration.jobs.stopGraceSeconds, logger: logger)
            let parts = DaemonParts(
                runtime: runtime, streams: store, configuration: configuration, stateDirectory: stateDirectory,
                environment: environment, logger: logger, node: name, jobMarker: jobGuard.token)
            let (runner, metrics) = (parts.runner, parts.metrics)
            // A DELETE …/sync answered by another node, for a job of this one.
            store.onStopRequest { [runner, logger] request in
                guard request.node == name, runner.stop(sourceID: request.sourceID, jobName: request.jobName) else { return }
                logger.info(
                    "job stop requested through another node",
                    metadata: ["source.id": "\(request.sourceID)", "job.name": "\(request.jobName)"])
            }
            let webhooks = try await makeWebhooks(store: store, configuration: configuration, metrics: metrics, logger: logger)
            store.claimDeliveries(as: name, for: webhooks.claimSeconds)
            let membership = ClusterMembership(database: database)
            let identity = NodeIdentity(name: name, address: cluster.advertisedAddress ?? configuration.listen.description)
            let node = ClusterNode(
                membership: membership, identity: identity, timings: timings, logger: logger,
                onRenewal: { fenceAt in jobGuard.fence(at: fenceAt) },
                onPhase: { phase, epoch in
                    onLeasePhase(phase, epoch: epoch, node: name, store: store, runner: runner, metrics: metrics, logger: logger)
                })
            metrics.nodeLease(name: name, held: false)
            let backend = ClusterBackend(
                settings: cluster, database: database, store: store, runtime: runtime, membership: membership, node: node,
                webhooks: webhooks, pool: pool, jobGuard: jobGuard)
            return Daemon(
                configuration: configuration, stateDirectory: stateDirectory, backend: .cluster(backend), tokens: tokens,
                parts: parts, lock: lock, logger: logger)
        } catch {
            pool.cancel()
            throw error
        }
    }

    /// What the node does when its lease is taken or about to end: while held, jobs start on
    /// this node (manual and scheduled, under this epoch); fenced, nothing starts and every
    /// running job is stopped, before the others may take the node's share.
    static func onLeasePhase(
        _ phase: LeaseHold.Phase, epoch: Int64?, node: String, store: ClusterStore, runner: JobRunner, metrics: TaplineMetrics,
        logger: Logger
    ) {
        switch phase {
        case .held:
            store.serve(asNode: node, epoch: epoch)
            metrics.nodeLease(name: node, held: true)
        case .fenced:
            store.serve(asNode: node, epoch: nil)
            metrics.nodeLease(name: node, held: false)
            let stopped = runner.stopAll()
            if stopped > 0 {
                logger.warning("stopped the jobs of a node without a lease", metadata: ["jobs.count": "\(stopped)"])
            }
        }
    }

    /// The database password: the configured file, else the systemd credential
    /// `store-password`, else none.
    static func readStorePassword(_ cluster: ClusterSettings, environment: [String: String], logger: Logger) throws -> String? {
        let found: (password: String, readableByOthers: Bool, path: String)?
        do {
            found = try cluster.password(environment: environment)
        } catch {
            throw SetupError("store_password_file \(error)")
        }
        guard let found else { return nil }
        if found.readableByOthers {
            logger.warning("the store password file is readable by other users; chmod 600 it", metadata: ["file.path": "\(found.path)"])
        }
        return found.password
    }

    /// The credentials key of a node: found as a single node finds it, generated only when the
    /// cluster knows no key yet (the first node); the other nodes need a copy of that file.
    static func clusterCipher(
        database: ClusterDatabase, configuration: TaplineConfiguration, stateDirectory: String, environment: [String: String],
        logger: Logger
    ) async throws -> CredentialCipher {
        let key = CredentialsKeyFile.location(
            configured: configuration.credentialsKeyFile, stateDirectory: stateDirectory, environment: environment)
        let known = try await ClusterStore.credentialsKeyIDs(in: database)
        let existed = FileManager.default.fileExists(atPath: key.path)
        do {
            let cipher = try CredentialsKeyFile.load(
                path: key.path, generate: key.generate, holder: "the cluster's database \(database.location)", sealedKeyIDs: { known })
            if !existed { logger.notice("generated the credentials key", metadata: ["key.path": "\(key.path)"]) }
            return cipher
        } catch let error as CredentialsKeyFile.Failure {
            throw SetupError(error.description)
        }
    }

    /// Runs a node of a cluster: the change feed and the lease first; once the node holds its
    /// lease, the sweep of its earlier lives, then the scheduler, the reaper of dead nodes and
    /// the API, until SIGTERM or SIGINT. The lease is held until the last job has ended, then
    /// given back.
    func runClusterNode(_ cluster: ClusterBackend) async throws {
        let feed = Task { await cluster.store.run() }
        let lease = Task { await cluster.node.run() }
        defer {
            feed.cancel()
            cluster.pool.cancel()
        }
        do {
            let epoch = try await joined(cluster.node)
            try await sweepEarlierLives(cluster, epoch: epoch)
            if let (type, properties, credentials) = Self.initialDestination(configuration),
                try await cluster.store.createInitialDestination(type: type, properties: properties, credentials: credentials, now: Date())
            {
                logger.info("created the initial destination", metadata: ["destination.type": "\(type)"])
            }
            // The first plan reads every due time: a blocking call, off the cooperative pool.
            let scheduler = self.scheduler
            try await onDispatchQueue { try scheduler.start() }
            let pruner = HistoryPruner(store: cluster.runtime, policy: configuration.retention, logger: logger)
            let reaper = ClusterReaperService(
                membership: cluster.membership, interval: cluster.settings.renewSeconds, grace: cluster.settings.reapGraceSeconds,
                logger: logger)
            // Stopped in reverse order, as on one node: the webhook deliveries last.
            let notifications = NotificationService(
                dispatcher: cluster.webhooks, enabled: !configuration.notifications.webhooks.isEmpty)
            try await serve(store: cluster.store, pruner: pruner, before: [.init(service: notifications)], after: [.init(service: reaper)])
        } catch {
            lease.cancel()
            await lease.value
            throw error
        }
        lease.cancel()
        await lease.value
        // Nothing listens for changes any more; the feed ends at once (a reconnection loop to a
        // database out of reach included).
        feed.cancel()
        await feed.value
    }

    /// The boot sweep of a node: its earlier lives' running jobs end as `interrupted`, and every
    /// process of any earlier life's job is killed, also of jobs the other nodes' reaper ended
    /// while this node was down; then the workspaces left behind are removed.
    func sweepEarlierLives(_ cluster: ClusterBackend, epoch: Int64) async throws {
        let name = cluster.node.identity.name
        let interrupted = try await cluster.store.interruptEarlierLives(node: name, epoch: epoch, now: Date())
        let leftovers = try await cluster.store.jobsOfEarlierLives(
            named: OrphanSweep.jobNamesOfLiveProcesses(), node: name, epoch: epoch)
        Self.endLeftovers(interrupted: interrupted.count, runner: runner, logger: logger) {
            OrphanSweep.endProcesses(named: leftovers, logger: logger)
        }
    }

    /// Waits until the node holds its lease and its store starts jobs under it (the held phase
    /// announced, not only computed: the API must not answer before a manual start can run),
    /// and returns its epoch. Another process holding the node's name (two nodes configured
    /// alike, or this node's previous life a moment ago) keeps it waiting; the node logs why.
    func joined(_ node: ClusterNode) async throws -> Int64 {
        while true {
            if let epoch = node.servingEpoch { return epoch }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

}

/// Ends the running jobs of dead nodes: every node does it, every `interval`, for the nodes
/// whose lease ran out more than `grace` ago (`ClusterMembership.reapExpired`; one transaction
/// per sweep, so two nodes never end one job twice).
struct ClusterReaperService: Service {
    let membership: ClusterMembership
    let interval: Double
    let grace: Double
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    for reaped in try await membership.reapExpired(grace: grace) {
                        logger.warning(
                            "a node's lease ran out: its running jobs are interrupted",
                            metadata: [
                                "node.name": "\(reaped.name)", "node.epoch": "\(reaped.epoch)", "jobs.count": "\(reaped.interruptedJobs)",
                            ])
                    }
                } catch {
                    guard !Task.isCancelled else { return }
                    logger.warning("cannot reap the nodes whose lease ran out", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: .seconds(interval))
            }
        }
    }
}
