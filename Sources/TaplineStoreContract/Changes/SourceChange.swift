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

/// Told of every committed change of sources, in commit order.
///
/// Called on the store's writer queue, right after the commit and before the next write begins:
/// that is what makes the order of announcements the order of commits. An observer must
/// therefore be quick and must not use the store synchronously (a write from there would wait
/// for itself); it hands anything slow to its own queue or task.
public protocol StoreObserver: AnyObject, Sendable {
    func sourcesChanged(_ changes: [SourceChange])
}
