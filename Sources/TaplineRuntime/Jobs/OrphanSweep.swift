import Foundation
import Logging
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// Ends the processes of jobs that a previous life of tapline left behind (after `kill -9` or a
/// crash), before anything new starts.
///
/// A process is ours when it carries an interrupted job's name in its environment
/// (`TAPLINE_JOB_NAME`, set on every job process and inherited by whatever it forks). The name
/// holds a UUID, so no one else's process matches, and it is found whether or not the previous
/// life had recorded the job's process group: a kill that hit between the spawn and the
/// recording of the group leaves no process behind either.
public enum OrphanSweep {
    /// Sends SIGKILL to every surviving process of the given jobs; returns how many were killed.
    @discardableResult
    public static func endProcesses(of jobs: [JobRecord], logger: Logger) -> Int {
        endProcesses(named: Set(jobs.map(\.jobName)), logger: logger)
    }

    /// The job names carried by live processes other than this one (`TAPLINE_JOB_NAME`). A node
    /// of a cluster asks its database which of them were its own earlier lives' jobs: the
    /// others may already have ended those rows as `interrupted`, and another daemon on the same
    /// machine runs jobs of its own.
    public static func jobNamesOfLiveProcesses() -> Set<String> {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let me = getpid()
        return Set(entries.compactMap { entry in Int32(entry).flatMap { $0 == me ? nil : jobName(of: $0) } })
    }

    /// Sends SIGKILL to every surviving process carrying one of `names`; returns how many.
    @discardableResult
    public static func endProcesses(named names: Set<String>, logger: Logger) -> Int {
        var killed = 0
        guard !names.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        let me = getpid()
        for entry in entries {
            guard let pid = Int32(entry), pid != me, let jobName = jobName(of: pid), names.contains(jobName) else { continue }
            if kill(pid, SIGKILL) == 0 {
                killed += 1
                logger.warning(
                    "killed a process left by an interrupted job", metadata: ["job.name": "\(jobName)", "process.pid": "\(pid)"])
            }
        }
        return killed
    }

    /// The value of `TAPLINE_JOB_NAME` in the process's environment, if it has one.
    static func jobName(of pid: Int32) -> String? {
        let prefix = Array("TAPLINE_JOB_NAME=".utf8)
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
        for entry in data.split(separator: 0) where entry.starts(with: prefix) {
            return String(decoding: entry.dropFirst(prefix.count), as: UTF8.self)
        }
        return nil
    }
}
