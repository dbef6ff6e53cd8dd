import Foundation

/// The job log in the format of Stitch's extraction logs, which integrations parse.
///
/// Every line begins `YYYY-MM-DD HH:MM:SS,mmmZ` (UTC) and names who wrote it: `tap`, `target`
/// or `main` (tapline itself), then ` - `; the taps' and targets' own stderr lines follow as
/// they wrote them. When the job ends, the summary Stitch writes: one
/// `tap - INFO replicated N records from "<stream>" endpoint` line per stream the tap sent, one
/// `target - INFO com.stitchdata.target-stitch-avro.flush-pipeline - send-stream-record-count-impl <stream>`
/// line per stream the target proved it loaded (mage-ai waits for the loads of exactly these
/// streams), and the exit statuses.
public enum ExtractionLog {
    public enum Writer: String, Sendable {
        case tap, target, main
    }

    /// `2026-12-01 23:58:40,123Z tap - `
    public static func prefix(_ writer: Writer, at date: Date) -> String {
        let c = UTCCalendar.components(of: date)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = c.millisecond < 10 ? "00\(c.millisecond)" : c.millisecond < 100 ? "0\(c.millisecond)" : "\(c.millisecond)"
        return "\(c.year)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)):\(two(c.second)),\(ms)Z \(writer.rawValue) - "
    }

    /// The marker mage-ai looks for in a target's per-stream line.
    public static let loadedStreamMarker = "com.stitchdata.target-stitch-avro.flush-pipeline - send-stream-record-count-impl"

    /// The lines that end a job's log.
    public static func summary(
        records: [String: Int], loaded: [String: Int], discoveryExitStatus: Int?, tapExitStatus: Int?, targetExitStatus: Int?,
        stopped: Bool, at date: Date
    ) -> [String] {
        var lines: [String] = []
        for (stream, count) in records.sorted(by: { $0.key < $1.key }) {
            lines.append(prefix(.tap, at: date) + "INFO replicated \(count) records from \"\(stream)\" endpoint")
        }
        for stream in loaded.filter({ $0.value > 0 }).keys.sorted() {
            lines.append(prefix(.target, at: date) + "INFO \(loadedStreamMarker) \(stream)")
        }
        func status(_ value: Int?) -> String { value.map(String.init) ?? "null" }
        let how = stopped ? "the job was stopped" : "Tap: \(status(tapExitStatus)). Target: \(status(targetExitStatus))"
        lines.append(
            prefix(.main, at: date) + "INFO Exit status is: Discovery: \(status(discoveryExitStatus)). \(how).")
        return lines
    }
}
