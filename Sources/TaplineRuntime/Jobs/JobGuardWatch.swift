import Dispatch
import Foundation
import TaplineCore

#if canImport(Glibc)
    import Glibc
#endif

/// The job guard's process (`tapline job-guard`): reads the daemon's fence times on standard
/// input and carries out `JobGuard`'s decisions on the node's job processes.
///
/// A job process of the node is one whose environment holds `TAPLINE_GUARD=<token>`: the
/// daemon sets it on every job it spawns and whatever a job forks inherits it, so the guard
/// finds them by reading `/proc` at the moment it acts, also after the daemon died and they
/// were reparented. A job's process group is signalled with it (`send`). The guard
/// ignores SIGTERM, SIGINT and SIGHUP, which a stop sends the whole service: it ends when the
/// daemon's end of the pipe closes and nothing of the node is left to end.
public enum JobGuardWatch {
    /// The variable that marks a node's job processes.
    public static let variable = "TAPLINE_GUARD"

    /// Runs until the daemon is gone and its jobs with it; returns the process's exit status.
    public static func run(token: String, grace: Double, input: Int32 = 0) -> Int32 {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        let marker = Array("\(variable)=\(token)".utf8)
        var decisions = JobGuard(grace: grace)
        var terminated: [Identity] = []
        var pending: [UInt8] = []
        while true {
            for action in decisions.step(now: now()) {
                switch action {
                case .terminate:
                    let found = processes(marked: marker)
                    if !found.isEmpty {
                        report("terminating \(found.count) job process(es): the node did not renew its lease in time")
                    }
                    send(found, SIGTERM)
                    terminated += found
                case .kill:
                    let alive = terminated.filter(\.isAlive)
                    if !alive.isEmpty { report("killing \(alive.count) job process(es) still running after the stop grace") }
                    send(alive, SIGKILL)
                    terminated = []
                case .exit:
                    return 0
                }
            }
            let timeout = decisions.wakeAt.map { Int32(min(60_000, max(0, ($0 - now()) * 1000).rounded(.up))) } ?? -1
            // Once the daemon is gone only the clock matters: a closed pipe polls ready for ever.
            var descriptor = pollfd(fd: decisions.daemonGone ? -1 : input, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, timeout)
            if ready < 0 && errno != EINTR { decisions.daemonEnded(now: now()) }
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = read(input, &buffer, buffer.count)
            if count <= 0 {
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                decisions.daemonEnded(now: now())
                continue
            }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if let fenceAt = JobGuardLink.parse(line) { decisions.renewed(fenceAt: fenceAt) }
            }
            if pending.count > 1024 { pending = [] }  // no line is this long: not the daemon talking
        }
    }

    /// The machine's monotonic clock in seconds, the clock the daemon's lease is counted on.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    static func report(_ message: String) {
        FileHandle.standardError.write(Data("tapline job-guard: \(message)\n".utf8))
    }

    /// A process as found: its id, process group and start time (so a pid reused meanwhile is
    /// not signalled).
    struct Identity: Equatable {
        var pid: pid_t
        var group: pid_t
        var startTime: UInt64

        var isAlive: Bool { JobGuardWatch.identity(of: pid)?.startTime == startTime }
    }

    /// Every process but this one whose environment holds `marker`.
    static func processes(marked marker: [UInt8]) -> [Identity] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let me = getpid()
        return entries.compactMap { entry -> Identity? in
            guard let pid = pid_t(entry), pid != me,
                let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                environ.split(separator: 0).contains(where: { $0.elementsEqual(marker) })
            else { return nil }
            return identity(of: pid)
        }
    }

    /// Signals each process, and the process group of each that leads one: a job's group (the
    /// tap leads it, the target joins it), which holds what the job forked even where that
    /// cleared its environment. A group led by anything else, say the daemon's own, is never
    /// signalled as a whole.
    static func send(_ processes: [Identity], _ number: Int32) {
        for process in processes {
            kill(process.pid, number)
            if process.group == process.pid && process.group != getpgrp() { kill(-process.group, number) }
        }
    }

    /// Fields 5 (process group) and 22 (start time) of `/proc/<pid>/stat`, read after the
    /// command's closing parenthesis (a command may hold spaces and parentheses).
    static func identity(of pid: pid_t) -> Identity? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
            let close = data.lastIndex(of: UInt8(ascii: ")"))
        else { return nil }
        let fields = data[(close + 1)...].split(separator: UInt8(ascii: " "))
        // After ")": state(3) ppid(4) pgrp(5) … starttime(22): indices 0, 1, 2 … 19.
        guard fields.count > 19, let group = pid_t(String(decoding: fields[2], as: UTF8.self)),
            let start = UInt64(String(decoding: fields[19], as: UTF8.self))
        else { return nil }
        return Identity(pid: pid, group: group, startTime: start)
    }
}
