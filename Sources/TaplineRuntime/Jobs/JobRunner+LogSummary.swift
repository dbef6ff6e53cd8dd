import Dispatch
import Foundation
import Logging
import Synchronization
import TaplineCore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

extension JobRunner {
    /// Ends the job's log as Stitch ends an extraction log: records per stream, the streams the
    /// target loaded, the exit statuses (`ExtractionLog.summary`).
    static func appendSummary(to path: String, outcome: JobOutcome) {
        let lines = ExtractionLog.summary(
            records: outcome.streamRecords, loaded: outcome.loadedRecords, discoveryExitStatus: outcome.discoveryExitStatus,
            tapExitStatus: outcome.tapExitStatus, targetExitStatus: outcome.targetExitStatus,
            stopped: outcome.status == .stopped, at: outcome.completedAt)
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        _ = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    }
}
