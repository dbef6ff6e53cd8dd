/// The scheduler's limits.
public struct SchedulerSettings: Sendable {
    /// How late (seconds) a missed occurrence may be and still run after downtime; `nil` means one
    /// period of each source.
    public var catchUpWindowSeconds: Double?
    /// The global start budget: scheduled starts per second (a token bucket, so a burst of this
    /// size starts at once), so thousands of overdue sources after a restart do not fork-bomb
    /// the machine.
    public var startsPerSecond: Double = 1000
    /// At most this many jobs run at once; due sources wait for a free slot.
    public var maxRunningJobs: Int = 1000
    /// The timer never sleeps longer than this (seconds), so a step of the wall clock is noticed.
    public var maxSleepSeconds: Double = 30

    public init() {}
}
