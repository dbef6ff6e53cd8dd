import Foundation

/// A committed change of a source, as the store announces it: what the scheduler must know.
///
/// `due` is the source's `next_fire_at` as committed, which the store keeps `NULL` whenever the
/// source is not schedulable (paused, system paused, deleted, not fully configured, or a schedule
/// that never fires again). So the due time alone tells the scheduler whether and when.
public struct SourceChange: Sendable, Equatable {
    public let sourceID: Int64
    public let due: Date?
    /// The source as committed, when the change edited it (created or updated through the API):
    /// what connection checks look at. `nil` for changes of its state alone (a claim, a pause by
    /// tapline, a job's end).
    public let edited: SourceRecord?

    public init(sourceID: Int64, due: Date?, edited: SourceRecord? = nil) {
        self.sourceID = sourceID
        self.due = due
        self.edited = edited
    }
}

/// Told of every committed change of sources, in commit order. When depends on the backend;
/// this is a documented difference, not a drift (the announcement tests run on both):
///
/// - SQLite (`Store`): on the store's writer queue, right after the commit and before the next
///   write begins, so before the writing call returns to its caller; that is what makes the
///   order of announcements the order of commits.
/// - PostgreSQL (`ClusterStore`): after the commit, from the cluster's change feed (one `LISTEN`
///   connection hearing every node's commits in commit order), usually milliseconds later; a
///   notification lost while that connection is down is made good by the feed's next reconcile
///   (after every reconnection, and every 30 s while connected: `ClusterStore`'s
///   `reconcileInterval`). A caller must not assume its own write has been announced when the
///   call returns.
///
/// Neither timing can start a paused source: a scheduled start re-checks the pause under the
/// row's lock, whatever an observer believed. On both, an observer must be quick and must not
/// use the store synchronously (on SQLite a write from there would wait for itself); it hands
/// anything slow to its own queue or task.
public protocol StoreObserver: AnyObject, Sendable {
    func sourcesChanged(_ changes: [SourceChange])
}
