import Foundation
import Testing

@testable import TaplineCore

@Suite("Due-queue and catch-up")
struct DueQueueTests {
    let t = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("pops due sources earliest first; updates and removals win over old entries")
    func ordering() {
        var queue = DueQueue()
        queue.set(1, due: t.addingTimeInterval(30))
        queue.set(2, due: t.addingTimeInterval(10))
        queue.set(3, due: t.addingTimeInterval(20))
        queue.set(1, due: t.addingTimeInterval(5))  // moved earlier
        queue.set(3, due: nil)  // paused
        #expect(queue.count == 2)
        #expect(queue.earliest() == t.addingTimeInterval(5))
        #expect(queue.popDue(now: t.addingTimeInterval(4)).isEmpty)
        let due = queue.popDue(now: t.addingTimeInterval(100))
        #expect(due.map(\.sourceID) == [1, 2])
        #expect(queue.isEmpty && queue.earliest() == nil)
    }

    @Test("a limit leaves the rest queued")
    func limit() {
        var queue = DueQueue()
        for id in 1...10 { queue.set(Int64(id), due: t.addingTimeInterval(Double(id))) }
        #expect(queue.popDue(now: t.addingTimeInterval(100), limit: 3).map(\.sourceID) == [1, 2, 3])
        #expect(queue.count == 7)
        #expect(queue.earliest() == t.addingTimeInterval(4))
    }

    @Test("matches a sorted reference under a random storm of updates, and stays compact")
    func randomized() {
        var rng = SplitMix64(seed: 42)
        var queue = DueQueue()
        var reference: [Int64: Date] = [:]
        for step in 0..<20_000 {
            let id = Int64.random(in: 1...500, using: &rng)
            if Int.random(in: 0..<5, using: &rng) == 0 {
                queue.set(id, due: nil)
                reference[id] = nil
            } else {
                let due = t.addingTimeInterval(Double(Int.random(in: 0..<10_000, using: &rng)))
                queue.set(id, due: due)
                reference[id] = due
            }
            if step % 1000 == 999 {
                let now = t.addingTimeInterval(Double(step / 4))
                let popped = queue.popDue(now: now)
                let expected = reference.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
                #expect(popped.map(\.due) == expected.map(\.value))
                #expect(Set(popped.map(\.sourceID)) == Set(expected.map(\.key)))
                for (id, _) in expected { reference[id] = nil }
            }
        }
        #expect(queue.count == reference.count)
    }

    @Test("catch-up: runs once for the latest missed occurrence within one period, else skips")
    func catchUp() throws {
        let hourly = Schedule.interval(minutes: 60)
        let stored = Timestamp.parse("2026-11-29T01:00:00Z")!
        // Down from 00:30 to 03:20: occurrences 01:00, 02:00 and 03:00 missed; 03:00 is 20 min ago.
        let now = Timestamp.parse("2026-11-29T03:20:00Z")!
        #expect(
            CatchUpPolicy.decide(hourly, nextFire: stored, now: now, window: nil)
                == .runNow(occurrence: Timestamp.parse("2026-11-29T03:00:00Z")!))
        // With a 10-minute window it is too late: skip three, next at 04:00.
        #expect(
            CatchUpPolicy.decide(hourly, nextFire: stored, now: now, window: 600)
                == .skip(missed: 3, next: Timestamp.parse("2026-11-29T04:00:00Z")!))
        let minutely = try CronExpression(parsing: "0 * * ? * *")
        // A minutely cron missed for an hour: the latest missed (03:20:00) is within its period.
        let cronNow = Timestamp.parse("2026-11-29T03:20:30Z")!
        #expect(
            CatchUpPolicy.decide(.cron(minutely), nextFire: Timestamp.parse("2026-11-29T02:20:00Z")!, now: cronNow, window: nil)
                == .runNow(occurrence: Timestamp.parse("2026-11-29T03:20:00Z")!))
        #expect(
            CatchUpPolicy.decide(.cron(minutely), nextFire: Timestamp.parse("2026-11-29T02:20:00Z")!, now: cronNow, window: 10)
                == .skip(missed: 61, next: Timestamp.parse("2026-11-29T03:21:00Z")!))
    }

    @Test("job names follow Stitch's <client>.<source>.sync.<uuid v1>")
    func jobNames() {
        let name = JobName.make(clientID: 116078, sourceID: 120643, at: t)
        let parts = name.split(separator: ".")
        #expect(parts.count == 4 && parts[0] == "116078" && parts[1] == "120643" && parts[2] == "sync")
        let uuid = String(parts[3])
        #expect(UUID(uuidString: uuid) != nil)
        #expect(uuid.split(separator: "-")[2].hasPrefix("1"), "version 1")
        #expect(JobName.make(clientID: 1, sourceID: 1, at: t) != JobName.make(clientID: 1, sourceID: 1, at: t))
    }
}
