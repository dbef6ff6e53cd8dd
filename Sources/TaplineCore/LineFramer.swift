/// Splits a byte stream into lines (without their `\n`), carrying an incomplete last line from
/// one read to the next, and bounding how long a line may grow in memory: a process that writes
/// without newlines cannot make tapline hold more than `maxLineBytes` of it.
///
/// What happens to a longer line is the caller's choice: `.split` hands it out in pieces of
/// `maxLineBytes` (a log keeps every byte), `.drop` leaves the whole line out and reports it
/// (a value that cannot be that long, such as a Singer state).
public struct LineFramer: Sendable {
    public enum Overflow: Sendable {
        case split
        case drop
    }

    public let maxLineBytes: Int
    public let overflow: Overflow
    private var carry: [UInt8] = []
    /// Inside a dropped line: everything up to its newline goes too.
    private var dropping = false

    public init(maxLineBytes: Int, overflow: Overflow) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.overflow = overflow
    }

    /// Feeds one read. `line` gets each complete line (or piece); returns how many lines were
    /// dropped as too long (only with `.drop`).
    @discardableResult
    public mutating func feed(_ bytes: some Collection<UInt8>, line: (ArraySlice<UInt8>) -> Void) -> Int {
        var dropped = 0
        var rest = bytes[...]
        while let newline = rest.firstIndex(of: 0x0A) {
            let part = rest[..<newline]
            if dropping {
                dropping = false
            } else if carry.isEmpty {
                line(ArraySlice(part))
            } else {
                carry.append(contentsOf: part)
                line(carry[...])
                carry.removeAll(keepingCapacity: true)
            }
            rest = rest[rest.index(after: newline)...]
        }
        guard !dropping else { return dropped }
        carry.append(contentsOf: rest)
        while carry.count > maxLineBytes {
            switch overflow {
            case .split:
                line(carry[..<maxLineBytes])
                carry.removeFirst(maxLineBytes)
            case .drop:
                carry.removeAll()
                dropping = true
                dropped += 1
            }
        }
        return dropped
    }

    /// The stream ended: an unterminated last line is still a line.
    public mutating func finish(line: (ArraySlice<UInt8>) -> Void) {
        if !carry.isEmpty, !dropping { line(carry[...]) }
        carry.removeAll()
        dropping = false
    }
}
