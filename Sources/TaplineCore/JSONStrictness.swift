import Foundation

/// What strict JSON (RFC 8259) refuses that Foundation's lenient decoder lets through.
public enum JSONProblem: Equatable, Sendable {
    /// A key appears twice in one object. Parsers disagree on `{"a":1,"a":2}` (Foundation keeps
    /// the first value, most others the last), so such a body has no single meaning.
    case duplicateKey(String)
    /// `[1,]` or `{"a":1,}`: not JSON, though Foundation accepts it.
    case trailingComma

    /// For a request's error message.
    public var message: String {
        switch self {
        case .duplicateKey(let key): "request body has the key \"\(key)\" more than once"
        case .trailingComma: "request body is not valid JSON (a comma before a closing bracket)"
        }
    }
}

/// Checks JSON text that already decoded for what strict JSON refuses: tapline answers such a
/// body with a 400 instead of guessing what it means. It only tracks strings, nesting and keys.
public enum JSONStrictness {
    /// The first problem, or `nil` for strict JSON.
    public static func firstProblem(in bytes: some Collection<UInt8>) -> JSONProblem? {
        let text = Array(bytes)
        // The last byte outside a string that is not white space.
        var previous: UInt8 = 0
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
                if previous == UInt8(ascii: ",") { return .trailingComma }
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
                    if !keys.insert(key).inserted { return .duplicateKey(key) }
                    stack[stack.count - 1] = keys
                    expectKey = false
                }
            default:
                break
            }
            if byte != 0x20, byte != 0x0A, byte != 0x0D, byte != 0x09 { previous = byte }
            i += 1
        }
        return nil
    }
}
