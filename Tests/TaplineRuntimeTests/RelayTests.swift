import Foundation
import Synchronization
import TaplineStore
import TaplineStoreContract
import Testing

@testable import TaplineRuntime

/// The real launcher and relay with small shell pipelines.
@Suite("Pipeline and relay")
struct RelayTests {
    func run(tap: String, target: String, limits: RelayLimits = RelayLimits()) async throws -> (PipelineExit, String) {
        let dir = NSTemporaryDirectory() + "tapline-relay-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let spec = PipelineSpec(
            tap: ["sh", "-c", tap], target: ["sh", "-c", target], environment: ProcessInfo.processInfo.environment,
            workingDirectory: dir, logPath: dir + "/job.log", limits: limits)
        let exit: PipelineExit = try await withCheckedThrowingContinuation { continuation in
            do {
                _ = try ProcessPipelineLauncher(selfExecutable: "/bin/false").launch(spec) { continuation.resume(returning: $0) }
            } catch {
                continuation.resume(throwing: error)
            }
        }
        return (exit, (try? String(contentsOfFile: dir + "/job.log", encoding: .utf8)) ?? "")
    }

    @Test("records are counted per stream, the last confirmed state kept, stderr prefixed in the log")
    func counts() async throws {
        let tap = #"""
            printf '{"type":"SCHEMA","stream":"a","schema":{}}\n'
            for i in 1 2 3; do printf '{"type":"RECORD","stream":"a","record":{"id":%s}}\n' $i; done
            printf '{"type":"RECORD","stream":"b","record":{}}\n'
            printf '{"type":"STATE","value":{"x":1}}\n'
            echo "progress note" >&2
            """#
        let target = #"n=$(wc -l); echo "target got $n lines" >&2; echo '{"bookmark":3}'"#
        let (exit, log) = try await run(tap: tap, target: target)
        #expect(exit.tap == .exited(0) && exit.target == .exited(0))
        #expect(exit.relay.recordsByStream == ["a": 3, "b": 1])
        #expect(exit.relay.lastState == #"{"bookmark":3}"#)
        #expect(exit.relay.invalidTapLine == nil)
        #expect(exit.relay.targetFailureCause == "target got 6 lines")
        #expect(log.contains("Z tap - progress note\n"))
        #expect(log.contains("Z target - target got 6 lines\n"))
        #expect(log.contains(#"Z target - INFO emitting state {"bookmark":3}"#))
    }

    @Test("a line that is not a Singer message stops the relay; the job outcome names it")
    func invalidLine() async throws {
        // The tap would go on for a minute: it is stopped once it wrote garbage.
        let tap = #"printf '{"type":"RECORD","stream":"a","record":{}}\nhello world\n'; exec sleep 60"#
        let (exit, _) = try await run(tap: tap, target: "cat > /dev/null")
        #expect(exit.relay.invalidTapLine == "line 2: hello world")
        #expect(exit.relay.recordsByStream == ["a": 1])
        #expect(exit.tap == .signaled(SIGTERM))
        let outcome = JobOutcome.from(exit, stopRequested: false, at: Date())
        #expect(outcome.status == .failed)
        #expect(outcome.tapDescription == "the tap wrote an invalid Singer message (line 2: hello world)")
    }

    @Test("a failing target is described by its last stderr line; the tap is not left blocked")
    func failingTarget() async throws {
        let tap = #"i=0; while [ $i -lt 100000 ]; do printf '{"type":"RECORD","stream":"a","record":{}}\n'; i=$((i+1)); done"#
        let (exit, _) = try await run(tap: tap, target: "head -c 10 > /dev/null; echo 'ERROR disk full' >&2; exit 3")
        #expect(exit.target == .exited(3))
        let outcome = JobOutcome.from(exit, stopRequested: false, at: Date())
        #expect(outcome.status == .failed && outcome.targetDescription == "ERROR disk full")
    }

    @Test("a stopped job whose target loaded nothing records no load; a target's confirmed state proves what came before it")
    func loadsOnlyOnEvidence() async throws {
        // The target dies by SIGTERM having confirmed nothing (as a stopped job's target does).
        let tap =
            #"printf '{"type":"SCHEMA","stream":"a","schema":{}}\n{"type":"RECORD","stream":"a","record":{}}\n{"type":"STATE","value":{"n":1}}\n'"#
        let (stopped, _) = try await run(tap: tap, target: "cat > /dev/null; kill -TERM $$")
        #expect(stopped.target == .signaled(SIGTERM) && stopped.relay.recordsByStream == ["a": 1])
        let outcome = JobOutcome.from(stopped, stopRequested: true, at: Date())
        #expect(outcome.status == .stopped && outcome.loadedRecords.isEmpty)

        // Two checkpoints; the target confirms the first (formatted its own way), then fails.
        let twoStates = #"""
            printf '{"type":"RECORD","stream":"a","record":{}}\n{"type":"RECORD","stream":"b","record":{}}\n'
            printf '{"type":"STATE","value":{"n":1,"m":[1,2]}}\n'
            printf '{"type":"RECORD","stream":"a","record":{}}\n{"type":"RECORD","stream":"c","record":{}}\n'
            printf '{"type":"STATE","value":{"n":2}}\n'
            """#
        let target = #"read a; read b; read s; echo '{"m": [1, 2], "n": 1}'; cat > /dev/null; echo 'disk full' >&2; exit 1"#
        let (partial, _) = try await run(tap: twoStates, target: target)
        #expect(partial.relay.recordsByStream == ["a": 2, "b": 1, "c": 1])
        #expect(partial.relay.confirmedRecordsByStream == ["a": 1, "b": 1])
        let failed = JobOutcome.from(partial, stopRequested: false, at: Date())
        #expect(failed.status == .failed && failed.loadedRecords == ["a": 1, "b": 1])
        // A target that exits 0 at the end of its input loaded everything it was sent.
        let (clean, _) = try await run(tap: twoStates, target: "cat > /dev/null")
        #expect(JobOutcome.from(clean, stopRequested: false, at: Date()).loadedRecords == ["a": 2, "b": 1, "c": 1])
    }

    @Test("a failure is described by the line that names its cause, not by trailing noise")
    func failureCause() async throws {
        let tap = #"""
            echo 'INFO starting' >&2
            echo 'Traceback (most recent call last):' >&2
            echo '  File "/x/tap.py", line 3, in main' >&2
            echo '    connect()' >&2
            echo 'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) FATAL:  password authentication failed for user "bob"' >&2
            echo '(Background on this error at: https://sqlalche.me/e/20/e3q8)' >&2
            exit 1
            """#
        let (exit, _) = try await run(tap: tap, target: "cat > /dev/null")
        let outcome = JobOutcome.from(exit, stopRequested: false, at: Date())
        #expect(
            outcome.tapDescription?.hasPrefix(
                "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) FATAL:  password authentication failed") == true)
    }

    @Test("a tap line longer than the limit fails the job naming the limit; memory stays bounded")
    func lineLimit() async throws {
        var limits = RelayLimits()
        limits.maxLineBytes = 1 << 16
        // 8 MiB without a newline.
        let (exit, _) = try await run(
            tap: "head -c 8388608 /dev/zero | tr '\\0' x; exec sleep 60", target: "cat > /dev/null", limits: limits)
        #expect(exit.relay.invalidTapLine == "line 1 is longer than 65536 bytes (jobs.max_line_bytes)")
        #expect(exit.tap == .signaled(SIGTERM) || exit.tap == .signaled(SIGPIPE))
        let outcome = JobOutcome.from(exit, stopRequested: false, at: Date())
        #expect(outcome.status == .failed && outcome.tapDescription?.contains("jobs.max_line_bytes") == true)
    }

    @Test("a log past its limit keeps its beginning and its last lines, with a note of what was left out")
    func logLimit() async throws {
        var limits = RelayLimits()
        limits.maxLogBytes = 100_000
        limits.tailBytes = 10_000
        let tap = #"i=0; while [ $i -lt 20000 ]; do echo "noise line $i" >&2; i=$((i+1)); done; echo 'FATAL the real cause' >&2; exit 2"#
        let (exit, log) = try await run(tap: tap, target: "cat > /dev/null", limits: limits)
        #expect(log.utf8.count < 100_000 + 10_000 + 500, "\(log.utf8.count) bytes")
        #expect(log.contains("tap - noise line 0\n"))
        #expect(log.contains("WARNING the log reached jobs.max_log_bytes (100000 bytes)"))
        #expect(log.hasSuffix("tap - FATAL the real cause\n"))
        #expect(exit.relay.tapFailureCause == "FATAL the real cause")
    }

    @Test("an unexecutable command is a launch error naming it")
    func launchError() async throws {
        do {
            _ = try await run(tap: "true", target: "true").0
            let spec = PipelineSpec(
                tap: ["/nonexistent/tap"], target: ["true"], environment: [:], workingDirectory: "/", logPath: "/dev/null")
            _ = try ProcessPipelineLauncher().launch(spec) { _ in }
            Issue.record("launched a missing command")
        } catch let error as LaunchError {
            #expect(error.role == "tap" && error.description.contains("/nonexistent/tap"))
        }
    }
}
