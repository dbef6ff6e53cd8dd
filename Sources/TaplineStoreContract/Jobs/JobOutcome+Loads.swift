import Foundation
import TaplineCore

/// A stream's load as an ended job leaves it (Stitch's load object), the same in both backends.
package struct PlannedLoad: Sendable, Equatable {
    package var stream: String
    /// When the batch was loaded; `nil` when the target failed.
    package var loadedAt: Date?
    /// The failure (`loadFailure` JSON) when the target failed.
    package var errorState: String?
    package var records: Int
}

extension JobOutcome {
    /// The loads this outcome records. A failed target puts every stream it was sent in an error
    /// state; otherwise only the streams the target proved it loaded get a load (a stopped job may
    /// prove none).
    package var plannedLoads: [PlannedLoad] {
        let targetFailed = status == .failed && (targetExitStatus ?? 0) != 0
        let failure =
            targetFailed
            ? Self.loadFailure(message: targetDescription ?? "the target failed", exitStatus: targetExitStatus) : nil
        return Set(streamRecords.keys).union(loadedRecords.keys).sorted().compactMap { stream in
            let loaded = loadedRecords[stream] ?? 0
            guard targetFailed || loaded > 0 else { return nil }
            return PlannedLoad(stream: stream, loadedAt: targetFailed ? nil : completedAt, errorState: failure, records: loaded)
        }
    }

    /// The relayed record counts as stored (`jobs.stream_records`), `nil` when none were relayed.
    package var streamRecordsJSON: String? {
        guard !streamRecords.isEmpty else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(streamRecords)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// What a failed load records, in tapline's terms (`LoadFailure`); the API turns it into
    /// Stitch's `error_state`.
    package static func loadFailure(message: String, exitStatus: Int?) -> String {
        var data: [String: Any] = ["message": message]
        if let exitStatus { data["target_exit_status"] = exitStatus }
        return String(
            decoding: (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }
}

extension CompletionPolicy {
    /// The reason of a system pause by repeated failures, naming the last failed job.
    package func systemPauseReason(lastFailed jobName: String) -> String {
        "\(failuresBeforeSystemPause) consecutive scheduled jobs failed (last: \(jobName))"
    }
}
