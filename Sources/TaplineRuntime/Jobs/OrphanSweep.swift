import Foundation
import Logging
import TaplineStore

#if canImport(Glibc)
import Glibc
#endif

/// Ends the processes of jobs that a previous life of tapline left behind (after `kill -9` or a
/// crash), before anything new starts.
///
/// A process is ours when it is in the job's recorded process group **and** carries the job's
/// name in its environment (`TAPLINE_JOB_NAME`, set on every job process), so a recycled process
/// group id never gets someone else's processes killed.
public enum OrphanSweep {
    /// Sends SIGKILL to every surviving process of the given jobs; returns how many were killed.
    @discardableResult
    public static func endProcesses(of jobs: [JobRecord], logger: Logger) -> Int {
        var killed = 0
        let byGroup = Dictionary(jobs.compactMap { job in job.processGroup.map { ($0, job.jobName) } }, uniquingKeysWith: { a, _ in a })
        guard !byGroup.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        for entry in entries {
            guard let pid = Int32(entry), let group = processGroup(of: pid), let jobName = byGroup[group],
                environment(of: pid).contains("TAPLINE_JOB_NAME=\(jobName)")
            else { continue }
            if kill(pid, SIGKILL) == 0 {
                killed += 1
                logger.warning(
                    "killed a process left by an interrupted job", metadata: ["job.name": "\(jobName)", "process.pid": "\(pid)"])
            }
        }
        return killed
    }

    /// Field 5 of `/proc/<pid>/stat` (after the parenthesised command name, which may hold spaces).
    static func processGroup(of pid: Int32) -> Int32? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 ? Int32(fields[2]) : nil
    }

    static func environment(of pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }
}
