import Foundation
import TaplineCore
import Testing

/// The scheduler's decisions without threads, timers or a store: events in, actions out.
@Suite("Scheduler machine")
struct SchedulerMachineTests {
    let t0 = Timestamp.parse("2026-11-29T10:00:00Z")!

    func instant(_ seconds: TimeInterval, wallOffset: TimeInterval = 0) -> SchedulerMachine.Instant {
        .init(wall: t0.addingTimeInterval(seconds + wallOffset), monotonic: 500 + seconds)
    }

    func machine(rate: Double = 100, cap: Int = 100, sleep: TimeInterval = 30) -> SchedulerMachine {
        SchedulerMachine(settings: .init(startsPerSecond: rate, maxRunningJobs: cap, maxSleep: sleep))
    }

    func claims(_ actions: [SchedulerMachine.Action]) -> [Int64] {
        actions.flatMap { action -> [Int64] in
            if case .claim(let due) = action { return due.map(\.sourceID) }
            return []
        }
    }

    @Test("start arms for the earliest due time; a later change does not re-arm, an earlier one does")
    func arming() {
        var m = machine()
        #expect(m.start([(1, t0.addingTimeInterval(10))], at: instant(0), running: 0) == [.arm(t0.addingTimeInterval(10))])
        #expect(m.changed([(2, t0.addingTimeInterval(20))], at: instant(1), running: 0) == [])
        #expect(m.changed([(3, t0.addingTimeInterval(5))], at: instant(1), running: 0) == [.arm(t0.addingTimeInterval(5))])
        #expect(m.armedFor == t0.addingTimeInterval(5))
        // Nothing due: the sleep is capped, so a clock step is noticed.
        var idle = machine(sleep: 30)
        #expect(idle.start([], at: instant(0), running: 0) == [.arm(t0.addingTimeInterval(30))])
    }

    @Test("a tick claims what is due, earliest first, and arms for the next one")
    func tickClaims() {
        var m = machine()
        _ = m.start(
            [(1, t0.addingTimeInterval(2)), (2, t0.addingTimeInterval(1)), (3, t0.addingTimeInterval(9))], at: instant(0), running: 0)
        let actions = m.tick(at: instant(2), running: 0)
        #expect(claims(actions) == [2, 1])
        #expect(actions.contains(.feedWatchdog))
        #expect(actions.contains(.arm(t0.addingTimeInterval(9))))
        #expect(m.queue.due(of: 1) == nil && m.queue.due(of: 2) == nil, "in flight: out of the queue")
    }

    @Test("the budget spreads a burst over seconds of the monotonic clock; the cap holds the rest until a job ends")
    func budgetAndCap() {
        var m = machine(rate: 10, cap: 15)
        _ = m.start((1...30).map { (Int64($0), t0) }, at: instant(0), running: 0)
        var running = 0
        var actions = m.tick(at: instant(0), running: running)
        #expect(claims(actions).count == 10)
        running += 10
        actions = m.tick(at: instant(0), running: running)
        #expect(claims(actions).isEmpty, "budget spent")
        #expect(actions.contains(.arm(t0.addingTimeInterval(0.1))), "wakes when the next token is there")
        actions = m.tick(at: instant(1), running: running)
        #expect(claims(actions).count == 5, "capped at 15 running")
        running += 5
        #expect(actions.contains(.arm(t0.addingTimeInterval(31))), "every slot taken: only a job's end wakes it sooner")
        #expect(m.jobEnded(at: instant(1.5)) == [.arm(t0.addingTimeInterval(1.5))])
        #expect(m.jobEnded(at: instant(1.6)) == [], "one wake-up per wait")
        running -= 5
        #expect(claims(m.tick(at: instant(2), running: running)).count == 5)
    }

    @Test("a failed claim puts back only what no committed change touched meanwhile")
    func claimFailed() {
        var m = machine()
        _ = m.start([(1, t0), (2, t0)], at: instant(0), running: 0)
        #expect(claims(m.tick(at: instant(0), running: 0)) == [1, 2])
        // Source 2 is paused through the API while the claim runs: its announcement wins.
        _ = m.changed([(2, nil)], at: instant(0), running: 0)
        // The next try waits a moment: a claim that fails at once (a node without its lease, a
        // database that refuses connections) must not turn the loop into a busy spin.
        #expect(m.claimFailed(at: instant(0), running: 0) == [.arm(t0.addingTimeInterval(0.5))])
        #expect(m.queue.due(of: 1) == t0 && m.queue.due(of: 2) == nil)
    }

    @Test("a claim's results apply only to sources no announcement touched")
    func claimedResults() {
        var m = machine()
        _ = m.start([(1, t0), (2, t0)], at: instant(0), running: 0)
        _ = m.tick(at: instant(0), running: 0)
        // The claim wrote source 1 (announced); source 2 it found moved (not written).
        _ = m.changed([(1, t0.addingTimeInterval(60))], at: instant(0), running: 0)
        m.claimed([(1, t0.addingTimeInterval(1)), (2, t0.addingTimeInterval(30))])
        #expect(m.queue.due(of: 1) == t0.addingTimeInterval(60), "the announcement is the committed value")
        #expect(m.queue.due(of: 2) == t0.addingTimeInterval(30))
    }

    @Test("a forward step of the wall clock asks for the catch-up rules before anything starts")
    func forwardStep() {
        var m = machine()
        _ = m.start([(1, t0.addingTimeInterval(60))], at: instant(0), running: 0)
        let actions = m.tick(at: instant(30, wallOffset: 3600), running: 0)
        #expect(actions.contains(.clockStepped(3600)))
        #expect(actions.contains(.catchUp))
        #expect(claims(actions).isEmpty)
        #expect(actions.contains(.arm(t0.addingTimeInterval(3630))), "ticks again at once, after the catch-up")
        // The next tick sees no step and claims.
        #expect(claims(m.tick(at: instant(30.01, wallOffset: 3600), running: 0)) == [1])
    }

    @Test("a backward step keeps due times and the start budget; slew within tolerance is no step")
    func backwardStepAndSlew() {
        var m = machine(rate: 1)
        _ = m.start([(1, t0.addingTimeInterval(10)), (2, t0.addingTimeInterval(20))], at: instant(0), running: 0)
        var actions = m.tick(at: instant(10), running: 0)
        #expect(claims(actions) == [1])
        actions = m.tick(at: instant(15, wallOffset: -3600), running: 0)
        #expect(actions.contains(.clockStepped(-3600)))
        #expect(!actions.contains(.catchUp))
        #expect(
            actions.contains(.arm(t0.addingTimeInterval(-3600 + 45))), "source 2 waits for its wall instant, an hour off: a capped sleep")
        #expect(m.queue.due(of: 2) == t0.addingTimeInterval(20))
        // The budget refills on the monotonic clock: one second later a token is there although
        // the wall clock is an hour behind.
        _ = m.changed([(3, t0.addingTimeInterval(-3600 + 15))], at: instant(15, wallOffset: -3600), running: 0)
        #expect(claims(m.tick(at: instant(16, wallOffset: -3600), running: 0)) == [3])
        // 60 s of sleep with 0.3 s of slew: not a step.
        var slewed = machine()
        _ = slewed.start([], at: instant(0), running: 0)
        #expect(!slewed.tick(at: instant(60, wallOffset: 0.3), running: 0).contains { if case .clockStepped = $0 { true } else { false } })
    }

    @Test("after stop nothing is claimed or armed")
    func stopped() {
        var m = machine()
        _ = m.start([(1, t0)], at: instant(0), running: 0)
        m.stop()
        #expect(m.tick(at: instant(1), running: 0) == [])
        #expect(m.changed([(2, t0)], at: instant(1), running: 0) == [])
        #expect(m.jobEnded(at: instant(1)) == [])
    }
}

@Suite("Coalesced occurrences")
struct CoalescedTests {
    let t0 = Timestamp.parse("2026-11-29T10:00:00Z")!

    @Test("a late start stands for the occurrences that passed: interval, anchored and cron")
    func counts() throws {
        let everySecond = Schedule(frequencyMinutes: 60, anchor: nil, cron: try CronExpression(parsing: "* * * ? * *"))
        #expect(NextFirePolicy.coalesced(everySecond, occurrence: t0, now: t0) == 0)
        #expect(NextFirePolicy.coalesced(everySecond, occurrence: t0, now: t0.addingTimeInterval(0.9)) == 0)
        #expect(NextFirePolicy.coalesced(everySecond, occurrence: t0, now: t0.addingTimeInterval(3.5)) == 3)
        let hourly = Schedule(frequencyMinutes: 60, anchor: nil, cron: nil)
        #expect(NextFirePolicy.coalesced(hourly, occurrence: t0, now: t0.addingTimeInterval(3 * 3600 + 1)) == 3)
        #expect(NextFirePolicy.coalesced(everySecond, occurrence: t0, now: t0.addingTimeInterval(86_400), limit: 1000) == 1000)
    }
}
