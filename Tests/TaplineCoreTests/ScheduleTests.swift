import Foundation
import Testing

@testable import TaplineCore

@Suite("Schedules and next fire times")
struct ScheduleTests {
    let now = Timestamp.parse("2026-11-29T10:07:30Z")!
    let anchor = Timestamp.parse("2018-04-30T03:30:00Z")!

    @Test("precedence: cron over anchor over plain frequency; anchor ignored below 60 minutes")
    func precedence() throws {
        let cron = try CronExpression(parsing: "0 0 12 ? * *")
        #expect(Schedule(frequencyMinutes: 60, anchor: anchor, cron: cron) == .cron(cron))
        #expect(Schedule(frequencyMinutes: 360, anchor: anchor, cron: nil) == .anchored(minutes: 360, anchor: anchor))
        #expect(Schedule(frequencyMinutes: 30, anchor: anchor, cron: nil) == .interval(minutes: 30))
        #expect(Schedule(frequencyMinutes: 60, anchor: nil, cron: nil) == .interval(minutes: 60))
    }

    @Test("anchored: anchor + k·frequency, the first slot strictly after the reference")
    func anchored() {
        let schedule = Schedule.anchored(minutes: 360, anchor: anchor)
        // 03:30 + 6h steps: 09:30, 15:30 — the first after 10:07:30 is 15:30.
        #expect(schedule.phasedOccurrence(after: now) == Timestamp.parse("2026-11-29T15:30:00Z"))
        #expect(schedule.phasedOccurrence(after: Timestamp.parse("2026-11-29T15:30:00Z")!) == Timestamp.parse("2026-11-29T21:30:00Z"))
        // An anchor in the future fixes the phase only.
        let future = Schedule.anchored(minutes: 60, anchor: Timestamp.parse("2030-01-01T00:45:00Z")!)
        #expect(future.phasedOccurrence(after: now) == Timestamp.parse("2026-11-29T10:45:00Z"))
    }

    @Test("a new plain-interval source is due at once; phased ones wait for their slot")
    func creation() throws {
        #expect(NextFirePolicy.afterCreation(.interval(minutes: 60), now: now) == now)
        #expect(NextFirePolicy.afterCreation(.anchored(minutes: 360, anchor: anchor), now: now) == Timestamp.parse("2026-11-29T15:30:00Z"))
        let cron = try CronExpression(parsing: "0 0 12 ? * *")
        #expect(NextFirePolicy.afterCreation(.cron(cron), now: now) == Timestamp.parse("2026-11-29T12:00:00Z"))
    }

    @Test("unpausing skips the paused period and never fires at the unpause instant")
    func unpause() throws {
        let lastStart = Timestamp.parse("2026-11-29T06:00:00Z")!
        // Occurrences 07:00, 08:00, 09:00, 10:00 fell in the pause; the next is 11:00.
        #expect(
            NextFirePolicy.afterUnpause(.interval(minutes: 60), lastStart: lastStart, createdAt: lastStart, now: now)
                == Timestamp.parse("2026-11-29T11:00:00Z"))
        // Exactly on an occurrence: strictly after.
        let onTheHour = Timestamp.parse("2026-11-29T10:00:00Z")!
        #expect(
            NextFirePolicy.afterUnpause(.interval(minutes: 60), lastStart: lastStart, createdAt: lastStart, now: onTheHour)
                == Timestamp.parse("2026-11-29T11:00:00Z"))
        // Never ran: counted from creation.
        let created = Timestamp.parse("2026-11-29T09:50:00Z")!
        #expect(
            NextFirePolicy.afterUnpause(.interval(minutes: 30), lastStart: nil, createdAt: created, now: now)
                == Timestamp.parse("2026-11-29T10:20:00Z"))
        let cron = try CronExpression(parsing: "0 */15 * ? * *")
        #expect(
            NextFirePolicy.afterUnpause(.cron(cron), lastStart: lastStart, createdAt: lastStart, now: now)
                == Timestamp.parse("2026-11-29T10:15:00Z"))
    }

    @Test("a handled occurrence moves to the next one after now, coalescing missed ones")
    func afterOccurrence() throws {
        let occurrence = Timestamp.parse("2026-11-29T10:00:00Z")!
        let started = Timestamp.parse("2026-11-29T10:00:00.004Z")!
        #expect(
            NextFirePolicy.afterOccurrence(.interval(minutes: 60), occurrence: occurrence, startedAt: started, now: started)
                == Timestamp.parse("2026-11-29T11:00:00.004Z"))
        let cron = try CronExpression(parsing: "0 * * ? * *")
        // Handled three and a half minutes late: the minutes in between are coalesced.
        let late = Timestamp.parse("2026-11-29T10:03:30Z")!
        #expect(
            NextFirePolicy.afterOccurrence(.cron(cron), occurrence: occurrence, startedAt: late, now: late)
                == Timestamp.parse("2026-11-29T10:04:00Z"))
        #expect(
            NextFirePolicy.afterOccurrence(.interval(minutes: 1), occurrence: occurrence, startedAt: nil, now: late)
                == Timestamp.parse("2026-11-29T10:04:00Z"))
    }

    @Test("manual jobs move only plain intervals; schedule edits keep the previous start")
    func manualAndEdits() throws {
        let manual = Timestamp.parse("2026-11-29T10:10:00Z")!
        let current = Timestamp.parse("2026-11-29T12:00:00Z")!
        #expect(
            NextFirePolicy.afterManualStart(.interval(minutes: 60), current: current, startedAt: manual)
                == Timestamp.parse("2026-11-29T11:10:00Z"))
        #expect(NextFirePolicy.afterManualStart(.anchored(minutes: 360, anchor: anchor), current: current, startedAt: manual) == current)
        let lastStart = Timestamp.parse("2026-11-29T09:40:00Z")!
        #expect(
            NextFirePolicy.afterScheduleChange(.interval(minutes: 30), lastStart: lastStart, now: now)
                == Timestamp.parse("2026-11-29T10:10:00Z"))
        #expect(NextFirePolicy.afterScheduleChange(.interval(minutes: 1), lastStart: lastStart, now: now) == now)
        #expect(NextFirePolicy.afterScheduleChange(.interval(minutes: 60), lastStart: nil, now: now) == now)
    }
}
