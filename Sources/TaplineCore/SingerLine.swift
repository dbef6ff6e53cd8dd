/// A minimal, allocation-free reading of one Singer message line.
///
/// The relay between a tap and a target sees every line of every job, so it does not build a
/// JSON tree: it checks that the line is one JSON object and picks out the top-level `type` and
/// `stream` strings, skipping every other value (nested objects, arrays, escapes included).
public struct SingerLine: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case record, schema, state, activateVersion, other
    }

    public var kind: Kind
    /// The byte range of the `stream` value (without quotes, escapes left as written).
    public var stream: Range<Int>?

    /// Reads `line` (without its newline). Returns `nil` when it is not a JSON object with a
    /// string `type`, or when a RECORD or SCHEMA lacks a string `stream`.
    public static func read(_ line: UnsafeBufferPointer<UInt8>) -> SingerLine? {
        var scanner = JSONScanner(bytes: line)
        guard let fields = scanner.topLevelTypeAndStream(), let type = fields.type else { return nil }
        let kind = Self.kind(of: line, type)
        if kind == .record || kind == .schema, fields.stream == nil { return nil }
        return SingerLine(kind: kind, stream: fields.stream)
    }

    /// Whether `bytes` hold exactly one JSON object (how a target's confirmed STATE looks).
    public static func isJSONObject(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var scanner = JSONScanner(bytes: bytes)
        return scanner.topLevelTypeAndStream() != nil
    }

    private static func kind(of line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Kind {
        func equals(_ literal: StaticString) -> Bool { JSONScanner.bytes(line, range, equal: literal) }
        if equals("RECORD") { return .record }
        if equals("STATE") { return .state }
        if equals("SCHEMA") { return .schema }
        if equals("ACTIVATE_VERSION") { return .activateVersion }
        return .other
    }
}

/// A forward-only scanner over JSON bytes that validates structure without building values.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Scans a whole top-level object; returns the ranges of its `type` and `stream` string
    /// values, or `nil` if the bytes are not exactly one JSON object (surrounding spaces allowed).
    mutating func topLevelTypeAndStream() -> (type: Range<Int>?, stream: Range<Int>?)? {
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        var type: Range<Int>?
        var stream: Range<Int>?
        skipSpace()
        if !take(UInt8(ascii: "}")) {
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                let isType = matches(key, "type")
                let isStream = !isType && matches(key, "stream")
                if isType || isStream, i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                    guard let value = string() else { return nil }
                    if isType { type = value } else { stream = value }
                } else {
                    guard skipValue(depth: 0) else { return nil }
                }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        skipSpace()
        return i == bytes.count ? (type, stream) : nil
    }

    private func matches(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        Self.bytes(bytes, range, equal: literal)
    }

    /// Whether `buffer[range]` spells `literal` exactly.
    static func bytes(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, equal literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        return literal.withUTF8Buffer { expected in
            var k = 0
            for j in range {
                if buffer[j] != expected[k] { return false }
                k += 1
            }
            return true
        }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    /// A string; returns the range of its contents.
    private mutating func string() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = i
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return start..<(i - 1)
            }
            if b == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if b < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    /// Skips any JSON value. Depth is bounded so a hostile line cannot exhaust the stack.
    private mutating func skipValue(depth: Int) -> Bool {
        guard depth < 512, i < bytes.count else { return false }
        switch bytes[i] {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"):
            i += 1
            skipSpace()
            if take(UInt8(ascii: "}")) { return true }
            while true {
                skipSpace()
                guard string() != nil else { return false }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}"))
            }
        case UInt8(ascii: "["):
            i += 1
            skipSpace()
            if take(UInt8(ascii: "]")) { return true }
            while true {
                skipSpace()
                guard skipValue(depth: depth + 1) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]"))
            }
        default:
            // Numbers and the literals true, false, null: a run of their characters.
            let start = i
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                    UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "a")...UInt8(ascii: "z"):
                    i += 1
                default:
                    return i > start
                }
            }
            return i > start
        }
    }
}
