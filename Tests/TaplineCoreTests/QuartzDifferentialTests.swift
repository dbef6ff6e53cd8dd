import Foundation
import Testing

@testable import TaplineCore

/// Compares tapline's cron evaluation with Quartz 2.3.2's own `CronExpression`, case by case.
///
/// The fixture was produced by `scripts/quartz-oracle/generate`, which runs Quartz itself over
/// hand-picked edge cases and a seeded random sample of the grammar, from several start instants.
@Suite("Quartz differential")
struct QuartzDifferentialTests {
    struct Case {
        let line: Int
        let expression: String
        let start: Date
        /// `nil`: Quartz refused the expression.
        let expected: [String]?
        /// Quartz accepted the expression but never answered (it loops forever on a few, e.g.
        /// `L-28W`) or threw while evaluating: there is nothing to compare with.
        let quartzFailed: Bool
    }

    static func cases() throws -> [Case] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/quartz-sequences.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        var result: [Case] = []
        for (index, line) in text.split(separator: "\n").enumerated() where !line.hasPrefix("#") {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, let start = Timestamp.parse(parts[1]) else {
                Issue.record("malformed fixture line \(index + 1)")
                continue
            }
            let expected: [String]? =
                switch parts[2] {
                case "invalid", "hang", "error": nil
                case "never": []
                default: parts[2].split(separator: " ").map(String.init)
                }
            result.append(
                Case(
                    line: index + 1, expression: parts[0], start: start, expected: expected,
                    quartzFailed: parts[2] == "hang" || parts[2] == "error"))
        }
        return result
    }

    /// Expressions Quartz accepts that tapline refuses on purpose, because Quartz silently
    /// misreads them: it ignores an eighth field, reads a step of 0 as "no step" or "every value",
    /// applies `W` only to the first day of a range or list, reads `MONKEY` as `MON`, and drops
    /// the `#n` of a range (`1-3#2` fires every Sunday to Tuesday).
    static let refusedOnPurpose: Set<String> = [
        "0 0 0 1 * ? * extra", "0 0/0 * * * ?", "0 0 0 1-5W * ?", "0 0 0 1 * MONKEY", "0 0 0 1W,15 * ?",
        "0 0/61 * * * ?", "0 0 0 ? * 1-3#2",
    ]

    @Test("every fixture case matches Quartz")
    func matchesQuartz() throws {
        let cases = try Self.cases()
        #expect(cases.count > 2000)
        var mismatches: [String] = []
        for c in cases where !c.quartzFailed {
            let parsed = try? CronExpression(parsing: c.expression)
            switch (parsed, c.expected) {
            case (nil, nil):
                continue
            case (nil, _?):
                if !Self.refusedOnPurpose.contains(c.expression) {
                    mismatches.append("line \(c.line): '\(c.expression)' Quartz accepts, tapline refuses")
                }
            case (_?, nil):
                mismatches.append("line \(c.line): '\(c.expression)' Quartz refuses, tapline accepts")
            case (let cron?, let expected?):
                let actual = cron.nextFires(after: c.start, count: 6).map(Timestamp.format)
                // Quartz stops searching about a century ahead; compare within its horizon.
                if actual.prefix(expected.count) != expected[...]
                    || (expected.count < 6 && actual.count > expected.count
                        && actual.dropFirst(expected.count).contains { $0 < "2126" })
                {
                    mismatches.append(
                        "line \(c.line): '\(c.expression)' after \(Timestamp.format(c.start)): Quartz \(expected), tapline \(actual)")
                }
            }
        }
        var seen = Set<String>()
        let unique = mismatches.filter { seen.insert(String($0.split(separator: "'")[1])).inserted }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(unique.prefix(60).joined(separator: "\n"))")
    }
}
