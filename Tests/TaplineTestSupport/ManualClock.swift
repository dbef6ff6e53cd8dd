import Foundation
import Synchronization
import TaplineRuntime

/// A clock the test moves by hand: scheduler tests never sleep. Setting the time moves both the
/// wall and the monotonic reading (time passed); `stepWall` moves the wall clock alone, as an
/// operator or a broken NTP does.
public final class ManualClock: Sendable {
    private let value: Mutex<(wall: Date, monotonic: TimeInterval)>
    public init(_ start: Date) { value = Mutex((start, 1000)) }
    public var now: Date { value.withLock { $0.wall } }
    public var monotonic: TimeInterval { value.withLock { $0.monotonic } }
    public func set(_ date: Date) {
        value.withLock { v in
            v.monotonic += max(0, date.timeIntervalSince(v.wall))
            v.wall = date
        }
    }
    public func advance(_ seconds: TimeInterval) { set(now.addingTimeInterval(seconds)) }
    public func stepWall(by seconds: TimeInterval) { value.withLock { $0.wall = $0.wall.addingTimeInterval(seconds) } }
    public var schedulerClock: SchedulerClock {
        SchedulerClock(wall: { self.now }, monotonic: { self.monotonic })
    }
}
