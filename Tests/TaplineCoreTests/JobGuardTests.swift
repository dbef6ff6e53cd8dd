import Testing

@testable import TaplineCore

/// The job guard's decisions: terminate at the fence point unless told of a later one, kill
/// after the grace, act at once when the daemon is gone.
@Suite("Core: job guard")
struct JobGuardTests {
    @Test("nothing before a lease is told; the fence point terminates, the grace kills, a renewal moves both")
    func fenceAndGrace() {
        var decisions = JobGuard(grace: 2)
        #expect(decisions.step(now: 100) == [] && decisions.wakeAt == nil)
        decisions.renewed(fenceAt: 110)
        #expect(decisions.wakeAt == 110 && decisions.step(now: 109.9) == [])
        decisions.renewed(fenceAt: 115)  // renewed in time: the fence moves
        #expect(decisions.step(now: 112) == [])
        #expect(decisions.step(now: 115) == [.terminate] && decisions.wakeAt == 117)
        #expect(decisions.step(now: 116.9) == [])
        #expect(decisions.step(now: 117) == [.kill] && decisions.wakeAt == nil)
        #expect(decisions.step(now: 200) == [], "acted once; nothing more until a new lease")
        decisions.renewed(fenceAt: 230)  // a new life's lease
        #expect(decisions.step(now: 230) == [.terminate])
    }

    @Test("a late step does what is due, in order; a pending kill is not put off by another terminate")
    func lateStep() {
        var decisions = JobGuard(grace: 2)
        decisions.renewed(fenceAt: 10)
        #expect(decisions.step(now: 50) == [.terminate], "the kill waits its grace after the terminate it follows")
        decisions.renewed(fenceAt: 51)
        #expect(decisions.step(now: 51) == [.terminate] && decisions.wakeAt == 52)
        #expect(decisions.step(now: 52) == [.kill])
    }

    @Test("no grace: terminate and kill together")
    func noGrace() {
        var decisions = JobGuard(grace: 0)
        decisions.renewed(fenceAt: 5)
        #expect(decisions.step(now: 5) == [.terminate, .kill] && decisions.wakeAt == nil)
    }

    @Test("the daemon gone: terminate now, kill after the grace, then exit; later messages change nothing")
    func daemonGone() {
        var decisions = JobGuard(grace: 1)
        decisions.renewed(fenceAt: 1000)
        decisions.daemonEnded(now: 20)
        decisions.renewed(fenceAt: 5000)
        #expect(decisions.step(now: 20) == [.terminate] && decisions.wakeAt == 21)
        #expect(decisions.step(now: 21) == [.kill, .exit])
    }
}
