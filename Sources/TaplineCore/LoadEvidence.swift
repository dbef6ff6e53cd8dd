import Foundation

/// Which of the records a job relayed the target has proven it loaded.
///
/// A Singer target writes a STATE to its stdout only once the records that came before that
/// STATE in its input are stored. So each STATE the tap sends is a checkpoint: the records
/// relayed per stream up to that point. When the target echoes a checkpoint's state, every
/// record before it is loaded. A target that exits 0 after the end of its input has loaded all
/// of it; nothing else counts as proof, so a stopped or failed job never shows a load it cannot
/// show the target confirmed.
public struct LoadEvidence: Sendable, Equatable {
    private struct Checkpoint: Sendable, Equatable {
        var state: String
        var records: [String: Int]
    }

    /// Checkpoints not yet confirmed, oldest first; bounded, since a tap may send a STATE after
    /// every record and a target may confirm none (the oldest are dropped: a later confirmation
    /// covers them).
    private var pending: [Checkpoint] = []
    /// Records per stream up to the last confirmed checkpoint.
    public private(set) var confirmedRecords: [String: Int] = [:]

    public static let maximumPending = 1000

    public init() {}

    /// The tap sent a STATE with `value` (JSON text) after `records` relayed so far per stream.
    public mutating func tapSent(stateValue value: String, records: [String: Int]) {
        guard let key = Self.canonical(value) else { return }
        if let last = pending.last, last.state == key {
            pending[pending.count - 1].records = records
            return
        }
        pending.append(Checkpoint(state: key, records: records))
        if pending.count > Self.maximumPending { pending.removeFirst(pending.count - Self.maximumPending) }
    }

    /// The target wrote `line` to its stdout; a state equal to a checkpoint's confirms it and
    /// every earlier one. Returns whether it confirmed anything.
    @discardableResult
    public mutating func targetConfirmed(_ line: String) -> Bool {
        guard let key = Self.canonical(line), let index = pending.lastIndex(where: { $0.state == key }) else { return false }
        confirmedRecords = pending[index].records
        pending.removeFirst(index + 1)
        return true
    }

    /// JSON text with sorted keys and no spaces, so `{"a": 1}` and `{"a":1}` compare equal.
    static func canonical(_ text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The `value` of a Singer STATE message line, as JSON text.
    public static func stateValue(ofMessage line: some Collection<UInt8>) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let value = object["value"],
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
