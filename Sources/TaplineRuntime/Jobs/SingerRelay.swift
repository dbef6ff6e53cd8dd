import Foundation
import TaplineCore

#if canImport(Glibc)
    import Glibc
#endif

/// What the relay saw while a job ran.
public struct RelayReport: Sendable, Equatable {
    /// RECORD messages forwarded, per stream.
    public var recordsByStream: [String: Int] = [:]
    /// The last STATE the target confirmed (a JSON object, as text): what the next job resumes from.
    public var lastState: String?
    /// The records per stream that the target proved it loaded (see `LoadEvidence`).
    public var confirmedRecordsByStream: [String: Int] = [:]
    /// The stderr line of each process that names why it failed (see `StderrSummary`), for the
    /// job's descriptions.
    public var tapFailureCause: String?
    public var targetFailureCause: String?
    /// A line the tap wrote that is not a Singer message; relaying stopped there.
    public var invalidTapLine: String?
    public var bytesRelayed = 0
    /// Why the job log could not be opened (the job ran without one).
    public var logError: String?

    public init() {}
}

/// Bounds on what one job's processes can make tapline hold or write, whatever they send.
public struct RelayLimits: Sendable, Equatable {
    /// The longest line a tap may write (a Singer message), and the longest line of a target's
    /// stdout tapline keeps; a longer tap line fails the job naming the limit.
    public var maxLineBytes = 16 << 20
    /// The size a job log may reach; beyond it lines are left out, and the log ends with a note
    /// and the last `tailBytes` of what was left out (where the error usually is).
    public var maxLogBytes = 64 << 20
    public var tailBytes = 256 << 10
    public init() {}
}

/// Moves a job's bytes, on one thread per job: the tap's stdout to the target's stdin (each line
/// checked to be a Singer message and RECORDs counted per stream), the target's stdout scanned for
/// the STATE values it confirms, and both stderr streams to the job log in Stitch's extraction
/// log format (`ExtractionLog`).
///
/// One `poll` loop with non-blocking descriptors, so a target that blocks on a full stderr pipe
/// can never deadlock against a relay blocked writing to it; reading the tap stops while 1 MiB is
/// waiting for the target (back-pressure).
///
/// Lines of the target's stdout and of both stderr streams are framed by `LineFramer` (Core).
/// The tap's stdout keeps its own framing in `relay(_:)`: it checks complete lines in place in
/// the read buffer and copies only a line split across reads, which is what lets it move
/// hundreds of MB/s.
///
/// Used by exactly one thread (the job's relay thread) once handed over; hence `@unchecked`.
final class SingerRelay: @unchecked Sendable {
    private let tapOut: Int32
    private let targetIn: Int32
    private let targetOut: Int32
    private let tapErr: Int32
    private let targetErr: Int32
    private let logPath: String
    private var log: Int32 = -1
    private let limits: RelayLimits
    private var logWritten = 0
    /// Once the log is full: how much was left out, and the last of it.
    private var logDropped = 0
    private var logTail: [[UInt8]] = []
    private var logTailBytes = 0
    /// Stopped (SIGTERM) as soon as it writes something that is not a Singer message: it would
    /// only block on a pipe nobody reads, or write more of the same.
    private let tapPid: Int32
    private var report = RelayReport()

    private var pendingLine: [UInt8] = []  // an incomplete tap line, for checking once complete
    private var outgoing: [UInt8] = []  // checked bytes waiting for the target
    private var outgoingStart = 0
    private var lineNumber = 0
    private var currentStream: [UInt8] = []
    private var currentCount = 0
    /// Stderr is logged line by line; a line longer than 64 KiB is logged in pieces.
    private var tapErrLines = LineFramer(maxLineBytes: 1 << 16, overflow: .split)
    private var targetErrLines = LineFramer(maxLineBytes: 1 << 16, overflow: .split)
    /// The target's stdout carries its states; no state is longer than a tap line may be.
    private var stateLines: LineFramer
    private var tapStderr = StderrSummary()
    private var targetStderr = StderrSummary()
    private var evidence = LoadEvidence()

    /// Takes ownership of every descriptor; all are closed when `run` returns.
    init(
        tapOut: Int32, targetIn: Int32, targetOut: Int32, tapErr: Int32, targetErr: Int32, logPath: String, tapPid: Int32,
        limits: RelayLimits = RelayLimits()
    ) {
        self.limits = limits
        self.stateLines = LineFramer(maxLineBytes: limits.maxLineBytes, overflow: .drop)
        self.tapPid = tapPid
        self.tapOut = tapOut
        self.targetIn = targetIn
        self.targetOut = targetOut
        self.tapErr = tapErr
        self.targetErr = targetErr
        self.logPath = logPath
    }

    /// Opens (creating, with its source's directory on first use) the job log. Done here, on the
    /// relay's thread after both processes run, not before the spawn: on a file system that has
    /// seen many logs come and go, creating a file costs far more than spawning a process.
    private static func openLog(_ path: String) -> (fd: Int32, error: String?) {
        let flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC
        var fd = open(path, flags, 0o640)
        if fd < 0, errno == ENOENT {
            // The source's first job: its directory under <state>/logs (which the runner made).
            _ = mkdir(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]), 0o700)
            fd = open(path, flags, 0o640)
        }
        return fd >= 0 ? (fd, nil) : (-1, "cannot open the job log \(path): \(String(cString: strerror(errno)))")
    }

    /// Relays until every stream has ended; returns what it saw.
    func run() -> RelayReport {
        let opened = Self.openLog(logPath)
        log = opened.fd
        report.logError = opened.error
        for fd in [tapOut, targetIn, targetOut, tapErr, targetErr] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        var open: Set<Int32> = [tapOut, targetIn, targetOut, tapErr, targetErr]
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
        defer {
            buffer.deallocate()
            for fd in open { close(fd) }
            if log >= 0 { close(log) }
        }
        func finish(_ fd: Int32) {
            if open.remove(fd) != nil { close(fd) }
        }
        while open.contains(tapOut) || open.contains(targetOut) || open.contains(tapErr) || open.contains(targetErr) {
            var fds: [pollfd] = []
            let waiting = outgoing.count - outgoingStart
            if open.contains(tapOut), waiting < 1 << 20 { fds.append(pollfd(fd: tapOut, events: Int16(POLLIN), revents: 0)) }
            if open.contains(targetIn), waiting > 0 { fds.append(pollfd(fd: targetIn, events: Int16(POLLOUT), revents: 0)) }
            for fd in [targetOut, tapErr, targetErr] where open.contains(fd) {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            if open.contains(targetIn), !open.contains(tapOut), waiting == 0 {
                finish(targetIn)  // all of the tap's output is delivered: the target sees EOF
                continue
            }
            if fds.isEmpty { break }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                let fd = entry.fd
                if fd == targetIn {
                    if entry.revents & Int16(POLLERR | POLLHUP) != 0 || !flushOutgoing() {
                        // The target is gone: stop the tap too (it gets EPIPE/SIGPIPE).
                        finish(targetIn)
                        finish(tapOut)
                        outgoing.removeAll()
                        outgoingStart = 0
                    }
                    continue
                }
                let n = read(fd, buffer.baseAddress, buffer.count)
                if n < 0, errno == EAGAIN || errno == EINTR { continue }
                if n <= 0 {
                    if fd == tapOut {
                        if !pendingLine.isEmpty { pendingLine.withUnsafeBufferPointer { _ = acceptLine($0) } }
                        pendingLine.removeAll()
                    }
                    flushPartial(fd)
                    finish(fd)
                    continue
                }
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n]).bindMemory(to: UInt8.self)
                switch fd {
                case tapOut:
                    if !relay(bytes) {
                        finish(tapOut)
                        pendingLine.removeAll()
                        kill(tapPid, SIGTERM)
                    }
                case targetOut: collectState(bytes)
                default: collectStderr(fd, bytes)
                }
                if open.contains(targetIn), outgoing.count > outgoingStart, !flushOutgoing() {
                    finish(targetIn)
                    finish(tapOut)
                    outgoing.removeAll()
                    outgoingStart = 0
                }
            }
        }
        closeStream()
        finishLog()
        report.tapFailureCause = tapStderr.cause
        report.targetFailureCause = targetStderr.cause
        report.confirmedRecordsByStream = evidence.confirmedRecords
        return report
    }

    // MARK: tap → target

    /// Checks the complete lines in `bytes` and queues them for the target. Returns false at the
    /// first line that is not a Singer message.
    private func relay(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: 0x0A) else {
                pendingLine.append(contentsOf: bytes[start...])
                if pendingLine.count > limits.maxLineBytes {
                    report.invalidTapLine =
                        "line \(lineNumber + 1) is longer than \(limits.maxLineBytes) bytes (jobs.max_line_bytes)"
                    return false
                }
                return true
            }
            let ok: Bool
            if pendingLine.isEmpty {
                ok = acceptLine(UnsafeBufferPointer(rebasing: bytes[start..<newline]))
            } else {
                pendingLine.append(contentsOf: bytes[start..<newline])
                ok = pendingLine.withUnsafeBufferPointer { acceptLine($0) }
                pendingLine.removeAll(keepingCapacity: true)
            }
            if !ok { return false }
            start = newline + 1
        }
        return true
    }

    /// Checks one complete line (without its newline) and queues it; false if it is not a Singer
    /// message.
    private func acceptLine(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        lineNumber += 1
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return true }
        guard let message = SingerLine.read(bytes) else {
            let excerpt = String(decoding: bytes.prefix(200), as: UTF8.self)
            report.invalidTapLine = "line \(lineNumber): \(excerpt)"
            return false
        }
        if message.kind == .record, let range = message.stream {
            let name = bytes[range]
            if !name.elementsEqual(currentStream) {
                closeStream()
                currentStream = Array(name)
            }
            currentCount += 1
        } else if message.kind == .state, let value = LoadEvidence.stateValue(ofMessage: bytes) {
            // A checkpoint: what the target confirms by echoing this state.
            closeStream()
            evidence.tapSent(stateValue: value, records: report.recordsByStream)
        }
        outgoing.append(contentsOf: bytes)
        outgoing.append(0x0A)
        report.bytesRelayed += bytes.count + 1
        return true
    }

    private func closeStream() {
        guard currentCount > 0 else { return }
        report.recordsByStream[String(decoding: currentStream, as: UTF8.self), default: 0] += currentCount
        currentCount = 0
    }

    /// Writes what the target can take now. Returns false if the target's stdin is closed.
    private func flushOutgoing() -> Bool {
        while outgoingStart < outgoing.count {
            let n = outgoing.withUnsafeBytes { raw in
                write(targetIn, raw.baseAddress! + outgoingStart, outgoing.count - outgoingStart)
            }
            if n < 0 {
                if errno == EAGAIN { break }
                if errno == EINTR { continue }
                return false
            }
            outgoingStart += n
        }
        if outgoingStart == outgoing.count {
            outgoing.removeAll(keepingCapacity: true)
            outgoingStart = 0
        } else if outgoingStart > 1 << 20 {
            outgoing.removeFirst(outgoingStart)
            outgoingStart = 0
        }
        return true
    }

    // MARK: target stdout, stderr

    private func collectState(_ bytes: UnsafeBufferPointer<UInt8>) {
        let dropped = stateLines.feed(bytes) { takeStateLine($0) }
        if dropped > 0 {
            // Memory stays bounded; the log says what happened.
            writeLog(
                .main, Array("WARNING the target wrote a stdout line longer than \(limits.maxLineBytes) bytes; it was left out".utf8)[...])
        }
    }

    private func takeStateLine(_ line: ArraySlice<UInt8>) {
        let isState = line.withUnsafeBufferPointer { bytes in
            guard SingerLine.isJSONObject(bytes) else { return false }
            let state = String(decoding: bytes, as: UTF8.self)
            report.lastState = state
            evidence.targetConfirmed(state)
            return true
        }
        writeLog(.target, Array((isState ? "INFO emitting state " : "INFO stdout: ").utf8) + line)
    }

    private func collectStderr(_ fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        if fd == tapErr {
            tapErrLines.feed(bytes) { takeStderrLine(fd, $0) }
        } else {
            targetErrLines.feed(bytes) { takeStderrLine(fd, $0) }
        }
    }

    /// A stream ended: its unterminated last line is still a line.
    private func flushPartial(_ fd: Int32) {
        switch fd {
        case targetOut: stateLines.finish { takeStateLine($0) }
        case tapErr: tapErrLines.finish { takeStderrLine(fd, $0) }
        case targetErr: targetErrLines.finish { takeStderrLine(fd, $0) }
        default: break
        }
    }

    private func takeStderrLine(_ fd: Int32, _ line: ArraySlice<UInt8>) {
        let text = Substring(decoding: line, as: UTF8.self)
        if fd == tapErr { tapStderr.take(line: text) } else { targetStderr.take(line: text) }
        writeLog(fd == tapErr ? .tap : .target, line)
    }

    /// One log line, `<time> <writer> - <text>`, while the log has room; past
    /// `maxLogBytes` only the last `tailBytes` of the lines are kept, for `finishLog`.
    private func writeLog(_ writer: ExtractionLog.Writer, _ text: ArraySlice<UInt8>) {
        guard log >= 0 else { return }
        var entry = Array(ExtractionLog.prefix(writer, at: Date()).utf8)
        entry.append(contentsOf: text.last == 0x0D ? text.dropLast() : text)
        entry.append(0x0A)
        if logWritten + entry.count <= limits.maxLogBytes, logDropped == 0 {
            logWritten += entry.count
            _ = entry.withUnsafeBytes { write(log, $0.baseAddress, $0.count) }
            return
        }
        logDropped += entry.count
        logTail.append(entry)
        logTailBytes += entry.count
        while logTailBytes > limits.tailBytes, logTail.count > 1 {
            logTailBytes -= logTail.removeFirst().count
        }
    }

    /// A log that overflowed ends with a note of what was left out and the last lines.
    private func finishLog() {
        guard log >= 0, logDropped > 0 else { return }
        let left = logDropped - logTailBytes
        let note =
            ExtractionLog.prefix(.main, at: Date())
            + "WARNING the log reached jobs.max_log_bytes (\(limits.maxLogBytes) bytes): \(left) bytes of lines were left out here; the last lines follow\n"
        for entry in [Array(note.utf8)] + logTail {
            _ = entry.withUnsafeBytes { write(log, $0.baseAddress, $0.count) }
        }
    }
}
