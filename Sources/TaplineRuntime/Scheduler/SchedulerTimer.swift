import Dispatch
import Foundation
import Synchronization

/// The one wake-up of the scheduler's loop, injected so tests drive the loop by hand.
public protocol SchedulerTimer: Sendable {
    /// Installs what a wake-up runs; called once, before the first `arm`.
    func setHandler(_ handler: @escaping @Sendable () -> Void)
    /// Wakes at `deadline` (a wall-clock instant), replacing any earlier arming; `now` is the
    /// wall-clock reading the deadline was computed against. Never blocks, never calls back
    /// synchronously: the scheduler arms while holding its lock.
    func arm(at deadline: Date, now: Date)
    func cancel()
}

/// Both clock readings the scheduler needs: wall time for due instants, monotonic time for how
/// long things took (see `SchedulerMachine.Instant`).
public struct SchedulerClock: Sendable {
    public var wall: @Sendable () -> Date
    public var monotonic: @Sendable () -> TimeInterval

    public init(wall: @escaping @Sendable () -> Date, monotonic: @escaping @Sendable () -> TimeInterval) {
        self.wall = wall
        self.monotonic = monotonic
    }

    public static let system = SchedulerClock(
        wall: { Date() }, monotonic: { TimeInterval(DispatchTime.now().uptimeNanoseconds) / 1e9 })
}

/// A `DispatchSourceTimer` on the scheduler's own high-priority queue. Dispatch sleeps on the
/// monotonic clock, so the wall deadline is turned into a delay at the moment it is armed; a wall
/// clock step while it sleeps is caught at the next tick (the sleep is capped).
public final class DispatchSchedulerTimer: SchedulerTimer {
    private let queue = DispatchQueue(label: "tapline.scheduler", qos: .userInteractive)
    private let source: Mutex<TimerHandle?> = Mutex(nil)

    public init() {}

    public func setHandler(_ handler: @escaping @Sendable () -> Void) {
        let timer = DispatchSource.makeTimerSource(flags: [.strict], queue: queue)
        timer.setEventHandler(handler: handler)
        timer.schedule(deadline: .distantFuture)
        timer.resume()
        source.withLock { $0 = TimerHandle(timer) }
    }

    public func arm(at deadline: Date, now: Date) {
        let delay = max(0, deadline.timeIntervalSince(now))
        source.withLock { handle in
            handle?.source.schedule(deadline: .now() + delay, repeating: .never, leeway: .nanoseconds(0))
        }
    }

    public func cancel() {
        source.withLock { handle in
            handle?.source.cancel()
            handle = nil
        }
    }
}

/// Dispatch sources are thread-safe, but the type is not marked `Sendable`.
private final class TimerHandle: @unchecked Sendable {
    let source: any DispatchSourceTimer
    init(_ source: any DispatchSourceTimer) { self.source = source }
}
