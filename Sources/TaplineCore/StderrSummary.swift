/// Picks, from what a tap or target wrote to stderr, the line that names why it failed.
///
/// The last line is often noise: SQLAlchemy ends with `(Background on this error at: …)`,
/// Python with a traceback's frames. In order of preference the cause is:
/// 1. a Singer `CRITICAL` line (singer-python logs the exception's message at that level just
///    before it dies): the first line of the last run of consecutive `CRITICAL` lines;
/// 2. the exception line of the last Python traceback (`psycopg2.OperationalError: …`);
/// 3. the last non-empty line.
///
/// It keeps three lines, whatever the volume of stderr.
public struct StderrSummary: Sendable, Equatable {
    private var lastLine: String?
    private var critical: String?
    private var previousWasCritical = false
    private var exception: String?
    private var inTraceback = false
    private var carry: [UInt8] = []

    /// The longest description kept, in characters.
    public static let maximumLength = 1000

    public init() {}

    /// The line naming the cause, if anything was written.
    public var cause: String? { critical ?? exception ?? lastLine }

    /// Takes one line of stderr (without its newline).
    public mutating func take(line raw: Substring) {
        let line = raw.trimmingSpaces()
        guard !line.isEmpty else { return }
        let kept = String(line.prefix(Self.maximumLength))
        lastLine = kept
        if Self.isCritical(line) {
            if !previousWasCritical { critical = kept }
            previousWasCritical = true
        } else {
            previousWasCritical = false
        }
        let indented = raw.first == " " || raw.first == "\t"
        if line == "Traceback (most recent call last):" {
            inTraceback = true
        } else if inTraceback, !indented {
            exception = kept
            inTraceback = false
        }
    }

    /// Takes a chunk of stderr bytes, split into lines (a line longer than 64 KiB is taken in
    /// pieces); call `finish` at the end for a last line without a newline.
    public mutating func take(_ bytes: some Collection<UInt8>) {
        carry.append(contentsOf: bytes)
        while let newline = carry.firstIndex(of: 0x0A) {
            take(line: Substring(decoding: carry[..<newline], as: UTF8.self))
            carry.removeSubrange(...newline)
        }
        if carry.count > 1 << 16 {
            take(line: Substring(decoding: carry, as: UTF8.self))
            carry.removeAll()
        }
    }

    public mutating func finish() {
        if !carry.isEmpty { take(line: Substring(decoding: carry, as: UTF8.self)) }
        carry.removeAll()
    }

    /// `CRITICAL` as a log level: the first word (`CRITICAL message`), a field between
    /// separators (`… | CRITICAL | …`, `… - CRITICAL - …`), or `level=CRITICAL`.
    static func isCritical(_ line: Substring) -> Bool {
        guard let range = line.range(of: "CRITICAL") else { return false }
        let before = line[..<range.lowerBound].last
        let after = line[range.upperBound...].first
        let boundaryBefore = before == nil || before == " " || before == "=" || before == "|" || before == "[" || before == ":"
        let boundaryAfter = after == nil || after == " " || after == "|" || after == "]" || after == ":"
        return boundaryBefore && boundaryAfter
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs and carriage returns (no Foundation needed).
    func trimmingSpaces() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
