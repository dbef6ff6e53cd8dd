import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Running as a service: systemd notifications, graceful stop, crash recovery, the CLI.
@Suite("End to end: service", .serialized)
struct ServiceEndToEndTests {
    /// A fake `$NOTIFY_SOCKET`: an AF_UNIX datagram socket that collects what tapline sends.
    final class NotifySocket: @unchecked Sendable {
        let path: String
        let fd: Int32
        private let lock = NSLock()
        private var received: [String] = []

        init(directory: String) throws {
            path = directory + "/notify.sock"
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw DaemonProcess.Failure("cannot bind \(path)") }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n > 0 {
                        let text = String(decoding: buffer[0..<n], as: UTF8.self)
                        lock.withLock { received.append(text) }
                    } else if n < 0, errno != EAGAIN, errno != EWOULDBLOCK {
                        return
                    }
                }
            }
            thread.start()
        }

        var messages: [String] { lock.withLock { received } }

        func waitFor(_ needle: String, timeout: TimeInterval = 20) async throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if messages.contains(where: { $0.contains(needle) }) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw DaemonProcess.Failure("no \(needle) on the notify socket (got \(messages))")
        }
    }

    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "tapline-svc-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("READY=1 once serving, WATCHDOG=1 from the loop, STOPPING=1 on SIGTERM; a job running at SIGTERM is recorded before exit 0")
    func notifyAndGracefulStop() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let notify = try NotifySocket(directory: dir)
        try "listen: 127.0.0.1:0\njobs:\n  shutdown_grace_seconds: 1\n  stop_grace_seconds: 2\n".write(
            toFile: dir + "/tapline.yaml", atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(
            stateDirectory: dir + "/state", arguments: ["--config", dir + "/tapline.yaml"],
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"])
        let api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir + "/state")
        try await notify.waitFor("READY=1")
        #expect(notify.messages.first { $0.contains("READY=1") }?.contains("STATUS=listening on 127.0.0.1:") == true)
        try await notify.waitFor("WATCHDOG=1", timeout: 5)

        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Long","properties":{"record_count":"10000","record_delay_ms":"5","frequency_in_minutes":"1440"}}"#
        )
        try await api.waitFor("the job to run") { try await api.jobs(1).first?["status"] as? String == "running" }
        // The row is committed before the spawn, and the spawn is counted after it: wait for the count.
        try await api.waitFor("the start to be counted") {
            try await api.text("/metrics").1.contains(#"tapline_jobs_started_total{trigger="scheduled"} 1"#)
        }
        let (metricsStatus, metrics) = try await api.text("/metrics")
        #expect(metricsStatus == 200)
        #expect(metrics.contains(#"tapline_jobs_started_total{trigger="scheduled"} 1"#))
        #expect(metrics.contains("tapline_jobs_running 1"))
        #expect(metrics.contains("tapline_scheduled_start_lateness_seconds_count 1"))
        #expect(metrics.contains(#"tapline_http_request_duration_seconds_count{route="/v4/sources""#))
        let (healthStatus, health) = try await api.text("/healthz")
        #expect(healthStatus == 200 && health.contains(#""status":"ok""#))
        daemon.signal(SIGTERM)
        try await notify.waitFor("STOPPING=1")
        #expect(try await daemon.exitStatus() == 0)

        // A new life on the same database sees the job recorded as stopped, not interrupted.
        let again = try DaemonProcess(stateDirectory: dir + "/state")
        let api2 = try HTTPClient(address: try await again.address(), stateDirectory: dir + "/state")
        let job = try #require(try await api2.jobs(1).first)
        #expect(job["status"] as? String == "stopped")
        #expect(job["tap_description"] as? String == "Terminated")
        again.signal(SIGTERM)
        #expect(try await again.exitStatus() == 0)
    }

    /// The pids whose environment names this job (what the boot sweep looks for).
    static func processes(of jobName: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "TAPLINE_JOB_NAME=\(jobName)" }
        }
    }

    @Test("kill -9 during a job: the restart reconciles it as interrupted and kills the orphaned processes")
    func crashRecovery() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try DaemonProcess(stateDirectory: dir + "/state")
        let api = try HTTPClient(address: try await daemon.address(), stateDirectory: dir + "/state")
        // A tap that waits a minute between records (like one waiting on a slow API) does not
        // notice its relay is gone until it next writes: it outlives the daemon.
        try await api.call(
            "POST", "/v4/sources",
            #"{"type":"platform.demo","display_name":"Long","properties":{"record_count":"10","record_delay_ms":"60000","frequency_in_minutes":"1440"}}"#
        )
        try await api.waitFor("the job to run") { try await api.jobs(1).first?["status"] as? String == "running" }
        let jobName = try #require(try await api.jobs(1).first?["job_name"] as? String)
        // Once the first record reached the target, the tap is in its minute-long wait.
        try await api.waitFor("the first record") {
            ((try? String(contentsOfFile: dir + "/state/output/users.jsonl", encoding: .utf8)) ?? "").contains("\n")
        }
        #expect(!Self.processes(of: jobName).isEmpty)
        daemon.signal(SIGKILL)
        _ = try await daemon.exitStatus()
        #expect(!Self.processes(of: jobName).isEmpty, "the job's processes outlive a kill -9")

        let restarted = try DaemonProcess(stateDirectory: dir + "/state")
        let api2 = try HTTPClient(address: try await restarted.address(), stateDirectory: dir + "/state")
        let job = try #require(try await api2.jobs(1).first)
        #expect(job["job_name"] as? String == jobName)
        #expect(job["status"] as? String == "interrupted")
        try await api2.waitFor("the orphans to be gone", timeout: 5) { Self.processes(of: jobName).isEmpty }
        // The source can run again.
        let (started, _) = try await api2.call("POST", "/v4/sources/1/sync")
        #expect(started == 200)
        try await api2.call("DELETE", "/v4/sources/1/sync")
        restarted.signal(SIGTERM)
        #expect(try await restarted.exitStatus() == 0)
    }

    @Test("the CLI round-trips against a live daemon, with exit codes scripts can trust")
    func cli() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try DaemonProcess(stateDirectory: dir + "/state")
        _ = try await daemon.address()
        let state = ["--state-dir", dir + "/state"]
        let created = try DaemonProcess.cli(
            ["sources", "create", "--type", "platform.demo", "--display-name", "CLI Source", "--property", "frequency_in_minutes=1440"]
                + state)
        #expect(created.status == 0, "\(created.err)")
        #expect(created.out.contains("cli_source"))
        let listed = try DaemonProcess.cli(["sources", "list", "--json"] + state)
        let sources = try #require(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])
        #expect(sources.map { $0["name"] as? String } == ["cli_source"])
        #expect(try DaemonProcess.cli(["sources", "pause", "1"] + state).out.contains("paused"))
        let started = try DaemonProcess.cli(["jobs", "start", "1"] + state)
        #expect(started.status == 0 && started.out.hasPrefix("1.1.sync."))
        // History filters: the API's status, trigger and time range, with spans back from now.
        func history(_ filter: [String]) throws -> [[String: Any]] {
            let out = try DaemonProcess.cli(["jobs", "list", "1", "--json"] + filter + state).out
            return (try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["data"] as? [[String: Any]] ?? []
        }
        #expect(try history(["--trigger", "manual", "--since", "1d"]).count == 1)
        #expect(try history(["--status", "failed", "--since", "1d"]).isEmpty)
        #expect(try history(["--until", "1d"]).isEmpty, "nothing started before yesterday")
        let badSince = try DaemonProcess.cli(["jobs", "list", "1", "--since", "yesterday"] + state)
        #expect(badSince.status != 0 && badSince.err.contains("--since"))
        let badStatus = try DaemonProcess.cli(["jobs", "list", "1", "--status", "lost"] + state)
        #expect(badStatus.status == 1 && badStatus.err.contains("invalid_filter"), "\(badStatus.err)")
        let bad = try DaemonProcess.cli(["sources", "update", "1", "--property", "frequency_in_minutes=7"] + state)
        #expect(bad.status == 1)
        #expect(bad.err.contains("InvalidProperties"))
        let missing = try DaemonProcess.cli(["sources", "get", "42"] + state)
        #expect(missing.status == 1 && missing.err.contains("source not found (42)"))
        let unreachable = try DaemonProcess.cli(["sources", "list", "--url", "http://127.0.0.1:1", "--token", "x"])
        #expect(unreachable.status == 3)
        daemon.signal(SIGTERM)
        #expect(try await daemon.exitStatus() == 0)
    }
}
