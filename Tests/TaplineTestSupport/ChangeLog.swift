import Foundation
import Synchronization
import TaplineStore
import TaplineStoreContract

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

extension ChangeLog {
    /// Waits until at least `count` commits were heard (a cluster store announces through
    /// `LISTEN/NOTIFY`, shortly after the write returned); false at the timeout.
    public func waitForCommits(_ count: Int, timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while commits.count < count {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }
}
