import Foundation
import TaplineCore
import TaplineStoreContract

/// One row of the sources list as the template sees it. Every state is shown as text and a
/// symbol, never by colour alone; "running now" is its own indicator beside the last result.
struct SourceRowModel {
    struct JobModel {
        var name: String
        var started: ConsoleTime.Stamp?
        var duration: String?
        var resultKey: String
        var resultText: String
        var symbol: String
    }

    var id: Int64
    var displayName: String
    var name: String
    var type: String
    var stateKey: String
    var stateLabel: String
    var stateSymbol: String
    var systemPauseReason: String?
    var paused: Bool
    var isRunning: Bool
    var running: JobModel?
    var last: JobModel?
    var lastSuccess: ConsoleTime.Stamp?
    var next: ConsoleTime.Stamp?
    var schedule: String
    var canAct: Bool
    var csrf: String
    var back: String

    init(_ source: SourceOverview, catalog: SourceTypeCatalog, now: Date, canAct: Bool, csrf: String, back: String) {
        id = source.id
        displayName = source.displayName
        name = source.name
        type = source.type
        let state = SourceState(source)
        stateKey = state.rawValue
        stateLabel = state.label
        stateSymbol = Self.symbol(state)
        systemPauseReason = source.systemPausedAt == nil ? nil : source.systemPauseReason
        paused = source.pausedAt != nil
        isRunning = source.running != nil
        running = source.running.map { job in
            JobModel(
                name: job.name, started: ConsoleTime.stamp(job.startedAt, now: now),
                duration: ConsoleTime.duration(max(0, now.timeIntervalSince(job.startedAt))), resultKey: "running",
                resultText: "Running now", symbol: "▶")
        }
        last = source.last.map { Self.ended($0, now: now) }
        lastSuccess = ConsoleTime.stamp(source.lastSuccessAt, now: now)
        next = ConsoleTime.stamp(source.nextFireAt, now: now)
        schedule = Self.schedule(source, catalog: catalog)
        self.canAct = canAct
        self.csrf = csrf
        self.back = back
    }

    static func symbol(_ state: SourceState) -> String {
        switch state {
        case .scheduled: "●"
        case .paused: "❚❚"
        case .systemPaused: "⚠"
        case .unscheduled: "○"
        }
    }

    /// An ended job: when, how long, and its result read from the exit fields.
    static func ended(_ job: SourceOverview.Job, now: Date) -> JobModel {
        let duration = job.completedAt.map { ConsoleTime.duration(max(0, $0.timeIntervalSince(job.startedAt))) }
        return JobModel(
            name: job.name, started: ConsoleTime.stamp(job.startedAt, now: now), duration: duration,
            resultKey: job.status.rawValue, resultText: result(job), symbol: symbol(job.status))
    }

    static func symbol(_ status: JobStatus) -> String {
        switch status {
        case .succeeded: "✓"
        case .failed: "✗"
        case .stopped: "■"
        case .interrupted: "↯"
        case .running: "▶"
        }
    }

    /// "Succeeded", "Failed: tap exited 1", "Stopped", …: the first part that failed.
    static func result(_ job: SourceOverview.Job) -> String {
        switch job.status {
        case .succeeded: return "Succeeded"
        case .stopped: return "Stopped"
        case .interrupted: return "Interrupted"
        case .running: return "Running"
        case .failed:
            if let code = job.discoveryExitStatus, code != 0 { return "Failed: discovery exited \(code)" }
            if let code = job.tapExitStatus, code != 0 { return "Failed: tap exited \(code)" }
            if let code = job.targetExitStatus, code != 0 { return "Failed: target exited \(code)" }
            return "Failed"
        }
    }

    /// "Every 60 min, anchored at 00:15 UTC" or "Cron 0 0 6 * * ? (Europe/Paris)".
    static func schedule(_ source: SourceOverview, catalog: SourceTypeCatalog) -> String {
        if let cron = source.cronExpression {
            return "Cron \(cron) (\(source.cronTimeZone ?? "UTC"))"
        }
        let minutes = source.frequencyMinutes ?? catalog[source.type]?.defaultFrequencyMinutes ?? 60
        var text = minutes % 60 == 0 && minutes >= 120 ? "Every \(minutes / 60) h" : "Every \(minutes) min"
        if source.frequencyMinutes == nil { text += " (type's default)" }
        if let anchor = source.anchorTime {
            let c = UTCCalendar.components(of: anchor)
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            text += ", anchored at \(two(c.hour)):\(two(c.minute)) UTC"
        }
        return text
    }
}
