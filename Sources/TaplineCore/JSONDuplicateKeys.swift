import Foundation

/// Finds a key that appears twice in one JSON object.
///
/// Parsers disagree on `{"a":1,"a":2}` (Foundation keeps the first value, most others the last),
/// so a body with a duplicate key has no single meaning; tapline refuses it instead of guessing.
/// Runs on text that already decoded as JSON, so it only tracks strings, nesting and keys.
public enum JSONDuplicateKeys {
    /// The first duplicated key (with escapes resolved), or `nil`.
    public static func first(in bytes: some Collection<UInt8>) -> String? {
        let text = Array(bytes)
        // One entry per open container: the keys seen so far, or nil for an array.
        var stack: [Set<String>?] = []
        // Whether the next string inside the current object is a key.
        var expectKey = false
        var i = 0
        while i < text.count {
            let byte = text[i]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append([])
                expectKey = true
            case UInt8(ascii: "["):
                stack.append(nil)
                expectKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
                expectKey = false
            case UInt8(ascii: ","):
                expectKey = stack.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                var escaped = false
                while i < text.count {
                    if text[i] == UInt8(ascii: "\\") {
                        escaped = true
                        i += 2
                        continue
                    }
                    if text[i] == UInt8(ascii: "\"") { break }
                    i += 1
                }
                if expectKey, var keys = stack.last ?? nil {
                    let raw = text[start...min(i, text.count - 1)]
                    let key =
                        escaped
                        ? (try? JSONDecoder().decode(String.self, from: Data(raw))) ?? String(decoding: raw, as: UTF8.self)
                        : String(decoding: raw.dropFirst().dropLast(), as: UTF8.self)
                    if !keys.insert(key).inserted { return key }
                    stack[stack.count - 1] = keys
                    expectKey = false
                }
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
