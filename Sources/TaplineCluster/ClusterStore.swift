import Foundation
import Logging
import PostgresNIO
import Synchronization
import TaplineCore
import TaplineStoreContract

/// The store of a cluster: the sources every node shares, in PostgreSQL, behind the same
/// `SourceStore` operations and rules as SQLite's `Store`.
///
/// Each operation is one transaction that locks the source row (`FOR UPDATE`), so writes from
/// several nodes to one source serialize in the database, and a scheduled start (which locks
/// the same row, `claimScheduledStarts`) is either before a pause or sees it. Times are stored at the
/// precision SQLite stores them (whole seconds for the instants the API shows, milliseconds for
/// due times and anchors), so both backends return the same records for the same calls.
///
/// What differs from SQLite: announcements come through `LISTEN/NOTIFY` (`ClusterChangeFeed`),
/// after the commit, from whichever node wrote; an observer may hear a change shortly after the
/// writing call returned, never before its commit.
///
/// Jobs name the node that runs them. A manual start runs on the node that received it, and
/// only while that node holds a valid lease in the database (checked in the start's
/// transaction): a node the others may believe dead starts nothing, manual or scheduled.
public final class ClusterStore: SourceStore, JobStore, DestinationStore, ScheduledStartStore {
    public let catalog: SourceTypeCatalog
    let database: ClusterDatabase
    /// Reads source rows, opening credentials sealed with the store's key (`nil`: plain JSON).
    let rows: ClusterSourceRows
    let feed: ClusterChangeFeed
    /// Late starts' coalesced occurrences, for their hourly `skipped` event (per node).
    let coalescing = CoalescingLedger()
    /// The node this store's manual starts run on and its epoch; `nil` before the join.
    private let member = Mutex<NodeMembership?>(nil)
    /// Who claims webhook deliveries through this store, and for how long a claim holds
    /// (`claimDeliveries(as:for:)`).
    let deliveryClaims = Mutex<(node: String, seconds: Double)>(("tapline", 120))

    struct NodeMembership: Sendable {
        var name: String
        var epoch: Int64
    }

    /// `reconcileInterval`: how often the change feed re-announces every source's due time, the
    /// safety net for a notification lost with a connection.
    public init(
        database: ClusterDatabase, catalog: SourceTypeCatalog, cipher: CredentialCipher? = nil,
        reconcileInterval: Duration = .seconds(30)
    ) {
        self.database = database
        self.catalog = catalog
        rows = ClusterSourceRows(cipher: cipher)
        feed = ClusterChangeFeed(database: database, rows: rows, reconcileInterval: reconcileInterval)
    }

    /// Names the node (and the epoch of its current lease) that jobs started through this store
    /// run on; `epoch: nil` (fenced, or not joined yet) makes every manual start fail.
    public func serve(asNode name: String, epoch: Int64?) {
        member.withLock { $0 = epoch.map { NodeMembership(name: name, epoch: $0) } }
    }

    var membership: NodeMembership? { member.withLock { $0 } }

    public func observe(_ observer: any StoreObserver) {
        feed.add(observer)
    }

    /// Runs the change feed until the task is cancelled (beside `database.run()`): observers
    /// hear changes only while it runs.
    public func run() async {
        await feed.run()
    }

    /// Whether the change feed is listening now (for health reports and tests).
    public var isListening: Bool { feed.isListening }
    /// How many times the change feed started listening (each reconnection adds one).
    public var listenSessions: Int { feed.listenSessions }
}
