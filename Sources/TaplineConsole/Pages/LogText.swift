import Foundation

/// Reading a job's log for the console: the tail a page renders, the lines after a byte offset
/// (only whole lines, so a line is never sent in two halves or twice), the critical lines
/// pinned above it. Memory is bounded by `window` whatever the log's size.
enum LogText {
    /// How many of the last lines a page renders; earlier ones are a link away.
    static let pageLines = 3000
    /// The most a page or a tail reads at once.
    static let window = 1 << 20
    static let maxPinned = 50

    struct Slice: Sendable, Equatable {
        var lines: [String]
        /// The byte offset of the first line shown (0: the log's start).
        var start: Int
        /// The byte offset just past the last whole line shown: where a tail continues.
        var end: Int
    }

    /// The last `pageLines` whole lines ending at or before `before` (the end of the file when
    /// `nil`), reading at most `window` bytes.
    static func tail(of handle: FileHandle, size: Int, before: Int?) throws -> Slice {
        var end = min(before ?? size, size)
        let start = max(0, end - window)
        try handle.seek(toOffset: UInt64(start))
        let data = try handle.read(upToCount: end - start) ?? Data()
        var bytes = [UInt8](data)
        // Drop a partial last line (still being written): a tail sends it once it ends.
        if before == nil, let last = bytes.last, last != 0x0A {
            if let lastNewline = bytes.lastIndex(of: 0x0A) {
                end -= bytes.count - lastNewline - 1
                bytes.removeSubrange((lastNewline + 1)...)
            } else {
                end = start
                bytes = []
            }
        }
        var lineStart = start
        var body = bytes[...]
        // A window that starts mid-line drops that fragment.
        if start > 0, let firstNewline = body.firstIndex(of: 0x0A) {
            lineStart = start + firstNewline + 1
            body = body[(firstNewline + 1)...]
        }
        var lines = body.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        if lines.count > pageLines {
            let dropped = lines.count - pageLines
            lineStart += lines.prefix(dropped).reduce(0) { $0 + $1.utf8.count + 1 }
            lines.removeFirst(dropped)
        }
        return Slice(lines: lines, start: lineStart, end: end)
    }

    /// The whole lines from `offset` on, at most `window` bytes of them.
    static func after(_ offset: Int, in handle: FileHandle, size: Int) throws -> Slice {
        guard offset < size else { return Slice(lines: [], start: offset, end: offset) }
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: min(window, size - offset)) ?? Data()
        guard let lastNewline = data.lastIndex(of: 0x0A) else { return Slice(lines: [], start: offset, end: offset) }
        let whole = data[data.startIndex...lastNewline]
        var lines = whole.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if lines.last == "" { lines.removeLast() }
        return Slice(lines: lines, start: offset, end: offset + whole.count)
    }

    /// Whether a line reports a critical failure: a `CRITICAL` or `FATAL` level, as singer-python
    /// (`CRITICAL message`) and the Meltano SDK (`| CRITICAL |`) write them.
    static func isCritical(_ line: String) -> Bool {
        guard line.contains("CRITICAL") || line.contains("FATAL") else { return false }
        return line.split(whereSeparator: { $0 == " " || $0 == "|" || $0 == ":" || $0 == "\t" })
            .contains { $0 == "CRITICAL" || $0 == "FATAL" }
    }

    /// The first `maxPinned` critical lines of the whole log, read in windows.
    static func pinned(in handle: FileHandle, size: Int) throws -> [String] {
        var found: [String] = []
        var offset = 0
        var carry: [UInt8] = []
        try handle.seek(toOffset: 0)
        while offset < size, found.count < maxPinned {
            let data = try handle.read(upToCount: min(window, size - offset)) ?? Data()
            if data.isEmpty { break }
            offset += data.count
            var bytes = carry + data
            carry = []
            if let lastNewline = bytes.lastIndex(of: 0x0A), lastNewline != bytes.count - 1 {
                carry = Array(bytes[(lastNewline + 1)...].prefix(64 * 1024))
                bytes.removeSubrange((lastNewline + 1)...)
            }
            for line in bytes.split(separator: 0x0A) where found.count < maxPinned {
                let text = String(decoding: line, as: UTF8.self)
                if isCritical(text) { found.append(text) }
            }
        }
        return found
    }
}
