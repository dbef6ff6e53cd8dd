import Foundation
import Synchronization
import TaplineRuntime

/// A timer that only records what the scheduler armed; the test ticks by hand.
public final class ManualTimer: SchedulerTimer {
    private let state = Mutex<(deadline: Date?, handler: (@Sendable () -> Void)?)>((nil, nil))
    public init() {}
    public var deadline: Date? { state.withLock { $0.deadline } }
    public func setHandler(_ handler: @escaping @Sendable () -> Void) { state.withLock { $0.handler = handler } }
    public func arm(at deadline: Date, now: Date) { state.withLock { $0.deadline = deadline } }
    public func cancel() { state.withLock { $0.deadline = nil } }
    /// Runs the wake-up, as Dispatch would at the deadline.
    public func fire() { state.withLock { $0.handler }?() }
}
