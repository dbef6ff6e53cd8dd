import TaplineCore
import Testing

@Suite("Node lease: fencing before the lease runs out")
struct NodeLeaseTests {
    @Test("the defaults can miss a renewal and still stop jobs in time; short leases are refused")
    func timings() {
        #expect(LeaseTimings().problem == nil)
        let short = LeaseTimings(duration: 15, renewInterval: 5, stopGrace: 10, safety: 2)
        #expect(short.problem?.contains("twice renew_seconds") == true)
        #expect(LeaseTimings(duration: 0).problem != nil)
    }

    @Test("held until the fence point, fenced after it, and after a refused renewal")
    func phases() {
        var hold = LeaseHold(timings: LeaseTimings(duration: 30, renewInterval: 5, stopGrace: 10, safety: 2))
        #expect(hold.phase(at: 0) == .fenced, "nothing held before the join")
        hold.renewed(sentAt: 100)
        #expect(hold.fenceAt == 118 && hold.expiresAt == 130)
        #expect(hold.phase(at: 117.9) == .held)
        #expect(hold.phase(at: 118) == .fenced)
        hold.renewed(sentAt: 95)  // a late answer to an older request
        #expect(hold.fenceAt == 118)
        hold.renewed(sentAt: 110)
        #expect(hold.phase(at: 127) == .held)
        hold.lost()
        #expect(hold.phase(at: 111) == .fenced)
    }

    @Test("whatever renewals succeed, jobs are stopped before the lease the database granted ends")
    func fencedBeforeExpiry() {
        var random = SplitMix64(seed: 7)
        let timings = LeaseTimings(duration: 20, renewInterval: 3, stopGrace: 5, safety: 1)
        for _ in 0..<1_000 {
            var hold = LeaseHold(timings: timings)
            var databaseExpiry = -Double.infinity
            var now = 0.0
            for _ in 0..<50 {
                let sent = now
                // The database saw the request some time after it was sent and granted from then.
                let seenBy = sent + Double(random.next() % 4_000) / 1_000
                let acknowledged = random.next() % 3 != 0
                if acknowledged {
                    databaseExpiry = max(databaseExpiry, seenBy + timings.duration)
                    hold.renewed(sentAt: sent)
                }
                now += Double(random.next() % 6_000) / 1_000
                if hold.phase(at: now) == .held {
                    // Held means: a stop begun now ends (stop grace) before the database's expiry.
                    #expect(now + timings.stopGrace <= databaseExpiry - timings.safety)
                }
            }
        }
    }
}
