import Foundation
import Logging
import PostgresNIO
import Synchronization
import TaplineStoreContract

/// Hears every committed change of the cluster's sources, from any node, and announces it to
/// this node's observers as `SourceChange`s, the way SQLite's store announces its own commits.
///
/// One pooled connection `LISTEN`s on `tapline_sources`, which the sources' triggers notify
/// with the ids each statement touched; the feed reads the committed due times back (and the
/// whole record when the write was an edit through the API), so an announcement never carries
/// a value that did not commit. PostgreSQL delivers notifications in commit order and the feed
/// handles them one at a time, so observers hear changes in commit order.
///
/// Notifications sent while the connection is down are lost; so after every (re)connection,
/// and every `reconcileInterval` while connected, the feed announces every source's due time
/// (`nil` for those not schedulable): a missed notification delays what it said by at most that
/// period. It never makes a paused source start: a scheduled start re-checks the pause under
/// the row lock whatever an observer believed.
///
/// The same connection listens on `tapline_stops` for stop requests of jobs running on some
/// node (`ClusterStore.requestStop`); each reconcile also hands over the requests still pending,
/// so a lost notification delays a stop by at most one period. It also listens on
/// `tapline_deliveries` and wakes this node's webhook dispatcher when any node's commit queued
/// deliveries (a lost one waits for the dispatcher's next poll, 5 s at most).
final class ClusterChangeFeed: Sendable {
    private let database: ClusterDatabase
    private let rows: ClusterSourceRows
    private let reconcileInterval: Duration
    private let observers = Mutex<[Weak]>([])
    private let listening = Atomic<Bool>(false)
    private let sessions = Atomic<Int>(0)
    private let stopHandler = Mutex<(@Sendable (StopRequest) -> Void)?>(nil)
    private let deliveriesHandler = Mutex<(@Sendable () -> Void)?>(nil)

    private struct Weak {
        weak var value: (any StoreObserver)?
    }

    init(database: ClusterDatabase, rows: ClusterSourceRows, reconcileInterval: Duration) {
        self.database = database
        self.rows = rows
        self.reconcileInterval = reconcileInterval
    }

    var isListening: Bool { listening.load(ordering: .acquiring) }
    /// How many times the feed started listening (more than one: it lost a connection).
    var listenSessions: Int { sessions.load(ordering: .acquiring) }

    func setStopHandler(_ handler: @escaping @Sendable (StopRequest) -> Void) {
        stopHandler.withLock { $0 = handler }
    }

    func setDeliveriesHandler(_ handler: @escaping @Sendable () -> Void) {
        deliveriesHandler.withLock { $0 = handler }
    }

    func add(_ observer: any StoreObserver) {
        observers.withLock { list in
            list.removeAll { $0.value == nil }
            list.append(Weak(value: observer))
        }
    }

    /// Listens until cancelled; a lost connection is retried after a pause that grows to 5 s.
    func run() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: ClusterDatabase.sourcesChannel) { notifications in
                        try await connection.listen(on: ClusterDatabase.stopsChannel) { stops in
                            try await connection.listen(on: ClusterDatabase.deliveriesChannel) { deliveries in
                                // Listening already: a change committed during this read is notified too.
                                do {
                                    try await withDeadline(Self.stepLimit, "the cluster change feed's first reconcile") {
                                        try await self.reconcile(connection)
                                    }
                                } catch let error as ClusterDeadlineExceeded {
                                    await ClusterDatabase.giveUp(connection)  // not reused
                                    throw error
                                }
                                self.sessions.add(1, ordering: .releasing)
                                self.listening.store(true, ordering: .releasing)
                                backoff = .milliseconds(100)
                                // Deliveries queued while this node was not listening are due now.
                                self.deliveriesHandler.withLock { $0 }?()
                                try await self.follow(notifications, stops: stops, deliveries: deliveries, on: connection)
                            }
                        }
                    }
                }
            } catch is CancellationError {
                break
            } catch {
                guard !Task.isCancelled else { break }
                database.logger.warning(
                    "cluster change feed lost its connection; reconnecting",
                    metadata: ["error": "\(String(reflecting: error))", "retry_in": "\(backoff)"])
            }
            listening.store(false, ordering: .releasing)
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
        listening.store(false, ordering: .releasing)
    }

    private enum Step: Sendable {
        case notified(String)
        case stopRequested(String)
        case deliveriesQueued
        case reconcile
        /// A `SELECT 1` on the listening connection: proves it still answers.
        case heartbeat
    }

    /// How often the listening connection is proven alive, and how long any step may take
    /// before the feed gives the connection up and connects again. A connection that stopped
    /// answering (a network cut without a reset) would otherwise keep the feed waiting for ever,
    /// and one the server terminated was seen to leave a query waiting for ever.
    static let heartbeatInterval = Duration.seconds(1)
    static let stepLimit = Duration.seconds(5)

    /// Handles notifications, periodic reconciles and heartbeats one at a time, in the order
    /// they came; returns or throws when the connection's notifications end or a step fails or
    /// overruns `stepLimit`. Nothing here waits for the connection's own tasks to end: the
    /// notification pump and the timers are cancelled and left to finish on their own.
    private func follow(
        _ notifications: PostgresNotificationSequence, stops: PostgresNotificationSequence,
        deliveries: PostgresNotificationSequence, on connection: PostgresConnection
    ) async throws {
        let (steps, continuation) = AsyncStream<Step>.makeStream()
        let interval = reconcileInterval
        let pump = Task {
            defer { continuation.finish() }
            for try await notification in notifications { continuation.yield(.notified(notification.payload)) }
        }
        let stopPump = Task {
            for try await notification in stops { continuation.yield(.stopRequested(notification.payload)) }
        }
        let deliveryPump = Task {
            for try await _ in deliveries { continuation.yield(.deliveriesQueued) }
        }
        let reconciles = Task {
            while (try? await Task.sleep(for: interval)) != nil { continuation.yield(.reconcile) }
        }
        let heartbeats = Task {
            while (try? await Task.sleep(for: Self.heartbeatInterval)) != nil { continuation.yield(.heartbeat) }
        }
        defer {
            pump.cancel()
            stopPump.cancel()
            deliveryPump.cancel()
            reconciles.cancel()
            heartbeats.cancel()
        }
        do {
            for await step in steps {
                try await withDeadline(Self.stepLimit, "the cluster change feed's connection") {
                    switch step {
                    case .notified(let payload): try await self.announce(payload: payload, connection: connection)
                    case .stopRequested(let payload): self.handOver(stop: payload)
                    case .deliveriesQueued: self.deliveriesHandler.withLock { $0 }?()
                    case .reconcile: try await self.reconcile(connection)
                    case .heartbeat: try await connection.query("SELECT 1", logger: self.database.logger)
                    }
                }
            }
        } catch let error as ClusterDeadlineExceeded {
            // Not reused: the pool gets it back closed.
            await ClusterDatabase.giveUp(connection)
            throw error
        }
        // Cancelled (the node stops), or the notifications ended: then the pump has finished,
        // and its error (the connection's end) says why.
        guard !Task.isCancelled else { return }
        if case .failure(let error) = await pump.result { throw error }
    }

    /// What the sources' trigger sends.
    private struct Payload: Decodable {
        var edited: Bool
        var ids: [Int64]
    }

    private func announce(payload text: String, connection: PostgresConnection) async throws {
        guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(text.utf8)), !payload.ids.isEmpty else {
            database.logger.warning("cluster change feed ignored a notification it cannot read", metadata: ["payload": "\(text)"])
            return
        }
        let listeners = observers.withLock { $0.compactMap(\.value) }
        guard !listeners.isEmpty else { return }
        var changes: [SourceChange] = []
        if payload.edited {
            let records = try await rows.sources(
                from: try await connection.query(
                    "SELECT \(unescaped: ClusterSourceRows.columns) FROM sources WHERE id = ANY(\(payload.ids)) ORDER BY id",
                    logger: database.logger))
            changes = records.map { SourceChange(sourceID: $0.id, due: $0.nextFireAt, edited: $0) }
        } else {
            for try await (id, due) in try await connection.query(
                "SELECT id, next_fire_at FROM sources WHERE id = ANY(\(payload.ids)) ORDER BY id", logger: database.logger
            ).decode((Int64, Date?).self) {
                changes.append(SourceChange(sourceID: id, due: due.map(ClusterTime.read)))
            }
        }
        for listener in listeners { listener.sourcesChanged(changes) }
    }

    private func handOver(stop text: String) {
        guard let request = try? JSONDecoder().decode(StopRequest.self, from: Data(text.utf8)) else {
            database.logger.warning("cluster change feed ignored a stop request it cannot read", metadata: ["payload": "\(text)"])
            return
        }
        stopHandler.withLock { $0 }?(request)
    }

    /// Announces every source's committed due time, and hands over every stop request still
    /// pending (the safety net for lost notifications).
    private func reconcile(_ connection: PostgresConnection) async throws {
        if let handler = stopHandler.withLock({ $0 }) {
            for try await (node, job, source) in try await connection.query(
                "SELECT node, job_name, source_id FROM jobs WHERE status = 'running' AND stop_requested_at IS NOT NULL",
                logger: database.logger
            ).decode((String, String, Int64).self) {
                handler(StopRequest(node: node, jobName: job, sourceID: source))
            }
        }
        let listeners = observers.withLock { $0.compactMap(\.value) }
        guard !listeners.isEmpty else { return }
        var changes: [SourceChange] = []
        for try await (id, due) in try await connection.query(
            "SELECT id, next_fire_at FROM sources ORDER BY id", logger: database.logger
        ).decode((Int64, Date?).self) {
            changes.append(SourceChange(sourceID: id, due: due.map(ClusterTime.read)))
        }
        for listener in listeners { listener.sourcesChanged(changes) }
    }
}
