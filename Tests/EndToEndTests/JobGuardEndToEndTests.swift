import Dispatch
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `tapline job-guard` as a node runs it, with real processes: marked ones end at the fence
/// point unless it moves, SIGKILL follows for those that ignore SIGTERM, nothing unmarked is
/// touched, and a closed pipe (the daemon gone) ends the marked ones at once.
@Suite("End to end: the job guard")
struct JobGuardEndToEndTests {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// A shell command as a child, with `TAPLINE_GUARD` set when `token` is given, and the
    /// empty signal mask a job gets from the daemon (the test runner's threads block signals
    /// that `Process` would pass on; Python clears the mask before it runs the shell).
    static func spawn(_ script: String, token: String?) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv('/bin/sh', ['sh', '-c', sys.argv[1]])",
            script,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["TAPLINE_GUARD"] = token
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func guardProcess(token: String, grace: Double) throws -> (Process, FileHandle) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.binary)
        process.arguments = ["job-guard", "--token", token, "--grace", String(grace)]
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, input.fileHandleForWriting)
    }

    static func waitForExit(_ process: Process, within seconds: Double) -> Bool {
        let deadline = now() + seconds
        while process.isRunning && now() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    @Test("the fence point moves with each renewal; past it SIGTERM, then SIGKILL after the grace; unmarked processes live on")
    func fence() throws {
        let token = UUID().uuidString
        let (guardian, pipe) = try Self.guardProcess(token: token, grace: 1)
        let polite = try Self.spawn("exec sleep 60", token: token)
        let stubborn = try Self.spawn("trap '' TERM; sleep 60 & wait; sleep 60", token: token)
        let other = try Self.spawn("exec sleep 60", token: nil)
        defer {
            for process in [polite, stubborn, other] where process.isRunning { kill(process.processIdentifier, SIGKILL) }
            if guardian.isRunning { kill(guardian.processIdentifier, SIGKILL) }
        }
        pipe.write(Data("fence \(Self.now() + 1.5)\n".utf8))
        usleep(1_000_000)
        pipe.write(Data("fence \(Self.now() + 1.5)\n".utf8))  // renewed in time
        usleep(1_000_000)
        #expect(polite.isRunning && stubborn.isRunning, "ended before the moved fence point")
        let fenceAt = Self.now() + 0.5
        #expect(Self.waitForExit(polite, within: 3), "SIGTERM did not come at the fence point")
        #expect(Self.now() - fenceAt < 1.5)
        #expect(stubborn.isRunning, "one that ignores SIGTERM lives until the grace ends (\(Self.now() - fenceAt) s past the fence)")
        #expect(Self.waitForExit(stubborn, within: 3), "SIGKILL did not follow the grace")
        #expect(other.isRunning, "a process without the guard's token was signalled")
        pipe.closeFile()
        #expect(Self.waitForExit(guardian, within: 5), "the guard outlived its daemon's pipe")
        #expect(guardian.terminationStatus == 0)
    }

    @Test("the daemon's end of the pipe closed: marked processes end at once and the guard exits")
    func daemonGone() throws {
        let token = UUID().uuidString
        let (guardian, pipe) = try Self.guardProcess(token: token, grace: 1)
        let job = try Self.spawn("exec sleep 60", token: token)
        defer {
            if job.isRunning { kill(job.processIdentifier, SIGKILL) }
            if guardian.isRunning { kill(guardian.processIdentifier, SIGKILL) }
        }
        pipe.write(Data("fence \(Self.now() + 3600)\n".utf8))
        usleep(300_000)
        #expect(job.isRunning)
        pipe.closeFile()
        #expect(Self.waitForExit(job, within: 3), "the job outlived its daemon")
        #expect(Self.waitForExit(guardian, within: 5) && guardian.terminationStatus == 0)
    }
}
