import ArgumentParser
import Foundation
import TaplineCore

/// `tapline schedule next`: print the next fire times of a schedule, as `systemd-analyze calendar`
/// does for timers. Uses the scheduler's own schedule code, so what it prints is what tapline does.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Inspect schedules.", subcommands: [Next.self])

    struct Next: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the next fire times of a Quartz cron expression or a frequency.",
            discussion: """
                SCHEDULE is a Quartz cron expression (6 or 7 fields, read in --timezone, default UTC), e.g.
                '0 0 12 ? * MON-FRI *', or a
                frequency in minutes (1, 30, 60, 360, 720, 1440). A plain frequency counts from a job that
                started at --after; with --anchor it fires at anchor + k·frequency (frequencies >= 60).
                """)

        @Argument(help: "A Quartz cron expression or a frequency in minutes.")
        var schedule: String

        @Option(help: "Compute fire times after this ISO 8601 instant (default: now).")
        var after: String?

        @Option(help: "How many fire times to print.")
        var count: Int = 5

        @Option(help: "Anchor time (ISO 8601) for a frequency schedule.")
        var anchor: String?

        @Option(help: "The IANA time zone a cron expression is read in, as a source's cron_timezone (default: UTC).")
        var timezone: String?

        func run() throws {
            guard (1...10_000).contains(count) else { throw ValidationError("--count must be between 1 and 10000") }
            var reference = Date()
            if let after {
                guard let parsed = Timestamp.parse(after) else {
                    throw ValidationError("--after: not an ISO 8601 timestamp: \(after)")
                }
                reference = parsed
            }
            let resolved = try resolve()
            print("  Original form: \(schedule)")
            print("Normalized form: \(describe(resolved))")
            var cursor = reference
            for i in 1...count {
                let next: Date?
                switch resolved {
                case .interval(let minutes):
                    next = cursor.addingTimeInterval(TimeInterval(minutes * 60))
                case .anchored, .cron:
                    next = resolved.phasedOccurrence(after: cursor)
                }
                guard let next else {
                    print(i == 1 ? "    Next elapse: never" : "     (no further fire times)")
                    return
                }
                let label = i == 1 ? "Next elapse" : "Iter. #\(i)"
                var line = String(repeating: " ", count: max(0, 15 - label.count)) + "\(label): \(Timestamp.format(next))"
                if case .cron(_, let zone?) = resolved { line += "  (\(Self.local(next, zone)))" }
                print(line)
                cursor = next
            }
        }

        private func resolve() throws -> Schedule {
            if schedule.contains(where: \.isWhitespace) {
                let cron: CronExpression
                do throws(CronParseError) {
                    cron = try CronExpression(parsing: schedule)
                } catch {
                    throw ValidationError("cron_expression \"\(schedule)\" is invalid: \(error.message)")
                }
                guard let timezone else { return .cron(cron) }
                guard let zone = CronTimeZone.named(timezone) else {
                    throw ValidationError("--timezone: \"\(timezone)\" is not an IANA time zone name (e.g. Europe/Berlin, UTC)")
                }
                return Schedule(frequencyMinutes: 60, anchor: nil, cron: cron, zone: zone)
            }
            if timezone != nil { throw ValidationError("--timezone applies to cron expressions only") }
            guard let minutes = Frequency.parse(schedule) else {
                throw ValidationError(
                    "'\(schedule)' is neither a cron expression nor one of the frequencies 1, 30, 60, 360, 720, 1440")
            }
            var anchorDate: Date?
            if let anchor {
                guard let parsed = Timestamp.parse(anchor) else {
                    throw ValidationError("--anchor: not an ISO 8601 timestamp: \(anchor)")
                }
                anchorDate = parsed
            }
            return Schedule(frequencyMinutes: minutes, anchor: anchorDate, cron: nil)
        }

        /// `2026-03-29 03:00:00 CEST`: the instant as the zone's wall clock shows it.
        static func local(_ date: Date, _ zone: TimeZone) -> String {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = zone
            f.dateFormat = "yyyy-MM-dd HH:mm:ss zzz"
            return f.string(from: date)
        }

        private func describe(_ schedule: Schedule) -> String {
            switch schedule {
            case .interval(let m): "every \(m) minutes from the previous job's start"
            case .anchored(let m, let a): "every \(m) minutes anchored at \(Timestamp.formatMilliseconds(a))"
            case .cron(let c, let zone): "cron \(c.text) (\(zone?.identifier ?? "UTC"))"
            }
        }
    }
}
