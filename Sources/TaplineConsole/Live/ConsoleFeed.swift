import Foundation
import Logging
import Synchronization
import TaplineStoreContract

/// Tells the console's open pages that something they show may have changed, within a second of
/// the commit, on one node or many.
///
/// Source changes come from the store's change feed (SQLite's commit hook; on a cluster,
/// PostgreSQL's `LISTEN`, so a pause through another node arrives too). Job starts and ends do
/// not always touch a source row, so while a page listens the feed also compares the jobs'
/// fingerprint (`JobActivity`, two index reads) every `probeInterval`: one probe for all pages.
///
/// Signals are coalesced: a burst of commits (a bulk pause of 10,000 sources) reaches each page
/// as at most one signal per `coalesce`, and the cost of refreshing never grows with the rate of
/// writes. At most `capacity` pages listen at once (each holds one of the browser's six
/// connections and a task here); past it `subscribe` answers `nil` and the page polls instead.
final class ConsoleFeed: StoreObserver, Sendable {
    enum Signal: Sendable, Equatable {
        /// Something a page shows may have changed.
        case changed
        /// Nothing changed for a while: a page's stream writes a comment, which is how a
        /// stream whose browser went away is noticed and closed.
        case heartbeat
    }

    struct Subscription: Sendable {
        let id: Int
        let signals: AsyncStream<Signal>
    }

    /// Probes between two heartbeats.
    static let heartbeatEvery = 30

    let capacity: Int
    let probeInterval: Duration
    let coalesce: Duration
    private let store: any ConsoleStore
    private let logger: Logger
    private let state = Mutex(State())
    /// Bumped by every change: the overview cache compares it.
    let version = Atomic<Int>(0)

    private struct State {
        var next = 0
        var subscribers: [Int: AsyncStream<Signal>.Continuation] = [:]
        var probing = false
        var lastActivity: JobActivity?
        var probes = 0
    }

    init(
        store: any ConsoleStore, capacity: Int = 64, probeInterval: Duration = .milliseconds(500),
        coalesce: Duration = .milliseconds(250), logger: Logger
    ) {
        self.store = store
        self.capacity = capacity
        self.probeInterval = probeInterval
        self.coalesce = coalesce
        self.logger = logger
    }

    /// A page's stream of signals; `nil` when `capacity` pages already listen.
    func subscribe() -> Subscription? {
        let (stream, continuation) = AsyncStream<Signal>.makeStream(bufferingPolicy: .bufferingNewest(4))
        let (id, startProbe): (Int?, Bool) = state.withLock { state in
            guard state.subscribers.count < capacity else { return (nil, false) }
            state.next += 1
            state.subscribers[state.next] = continuation
            let start = !state.probing
            state.probing = true
            return (state.next, start)
        }
        guard let id else { return nil }
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        if startProbe { startProbing() }
        return Subscription(id: id, signals: stream)
    }

    var listening: Int { state.withLock { $0.subscribers.count } }

    /// Ends a page's stream (the daemon is stopping).
    func end(_ id: Int) {
        let continuation = state.withLock { $0.subscribers.removeValue(forKey: id) }
        continuation?.finish()
    }

    private func unsubscribe(_ id: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    /// Something changed: every listening page is told (each keeps the newest few signals; its
    /// stream spaces them by `coalesce`).
    func signal() {
        version.add(1, ordering: .relaxed)
        let listeners = state.withLock { Array($0.subscribers.values) }
        for continuation in listeners { continuation.yield(.changed) }
    }

    // MARK: StoreObserver

    func sourcesChanged(_ changes: [SourceChange]) {
        signal()
    }

    // MARK: The jobs probe

    private func startProbing() {
        Task { [weak self] in
            while let self {
                let keepGoing = await self.probeOnce()
                guard keepGoing else { return }
                try? await Task.sleep(for: self.probeInterval)
            }
        }
    }

    /// One comparison of the fingerprint; `false` once no page listens (the probe stops).
    private func probeOnce() async -> Bool {
        let listening = state.withLock { state -> Bool in
            if state.subscribers.isEmpty {
                state.probing = false
                state.lastActivity = nil
                return false
            }
            return true
        }
        guard listening else { return false }
        do {
            let activity = try await store.jobActivity()
            let changed = state.withLock { state -> Bool in
                defer { state.lastActivity = activity }
                return state.lastActivity.map { $0 != activity } ?? false
            }
            if changed { signal() }
            let beat = state.withLock { state -> [AsyncStream<Signal>.Continuation] in
                state.probes += 1
                return state.probes % Self.heartbeatEvery == 0 ? Array(state.subscribers.values) : []
            }
            for continuation in beat { continuation.yield(.heartbeat) }
        } catch {
            logger.debug("console job probe failed", metadata: ["error": "\(error)"])
        }
        return true
    }
}

/// The list's rows, read once and shared: a page gets the last read while nothing changed since
/// (known only while the feed probes the jobs, that is while a page listens; else for `maxAge`),
/// and after a change a new read, at most one per `maxAge`: 32 open consoles refreshing after a
/// burst of commits cost two reads of the sources a second, not 32 per commit, and none of them
/// is shown a list older than the change that made it refresh.
final class OverviewCache: Sendable {
    private let store: any ConsoleStore
    private let feed: ConsoleFeed
    private let maxAge: Duration
    private let cached = Mutex<(version: Int, at: ContinuousClock.Instant, rows: PreparedOverviews)?>(nil)

    init(store: any ConsoleStore, feed: ConsoleFeed, maxAge: Duration = .milliseconds(500)) {
        self.store = store
        self.feed = feed
        self.maxAge = maxAge
    }

    /// Forgets the rows: the next page reads them again. Called after this console's own
    /// action, so the page it redirects to shows the action's result.
    func invalidate() {
        cached.withLock { $0 = nil }
    }

    /// The rows; `fresh` reads past the cache (after this session's own action, so its result
    /// shows at once).
    func overviews(fresh: Bool = false) async throws -> [SourceOverview] {
        try await prepared(fresh: fresh).rows
    }

    /// The rows with their search text and order by name (see `PreparedOverviews`).
    func prepared(fresh: Bool = false) async throws -> PreparedOverviews {
        var version = feed.version.load(ordering: .relaxed)
        let now = ContinuousClock.now
        if !fresh, let hit = cached.withLock({ $0 }) {
            let age = now - hit.at
            // Nothing changed since the read: it is still true (while a page listens, job starts
            // and ends count as changes too).
            if hit.version == version && (feed.listening > 0 ? age < .seconds(10) : age < maxAge) { return hit.rows }
            // Changed since a read less than `maxAge` ago: read again once that age is reached, so
            // a burst of commits costs two reads a second, and no page keeps a stale list.
            if age < maxAge { try await Task.sleep(for: maxAge - age) }
            if let newer = cached.withLock({ $0 }), newer.at > hit.at, newer.version == feed.version.load(ordering: .relaxed) {
                return newer.rows
            }
        }
        version = feed.version.load(ordering: .relaxed)
        let at = ContinuousClock.now
        let read = try await store.sourceOverviews()
        let rows = await ConsoleWork.run { PreparedOverviews(read) }
        cached.withLock { $0 = (version, at, rows) }
        return rows
    }
}
