import Foundation
import Synchronization
import TaplineStore

/// Collects the store's announcements.
public final class ChangeLog: StoreObserver {
    public init() {}
    private let received = Mutex<[[SourceChange]]>([])
    public func sourcesChanged(_ changes: [SourceChange]) { received.withLock { $0.append(changes) } }
    /// Every change heard, in order.
    public var changes: [SourceChange] { received.withLock { $0.flatMap { $0 } } }
    /// One entry per commit.
    public var commits: [[SourceChange]] { received.withLock { $0 } }
    public func clear() { received.withLock { $0 = [] } }
}
