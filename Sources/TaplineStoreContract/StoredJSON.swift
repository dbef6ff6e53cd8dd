import Foundation

/// JSON text columns holding string maps (both backends store them as this text).
package enum StoredJSON {
    package static func decodeStrings(_ text: String, what: String? = nil) throws -> [String: String] {
        guard let data = text.data(using: .utf8), let map = try? JSONDecoder().decode([String: String].self, from: data)
        else { throw StoreError.corruptValue("JSON object of strings" + (what.map { " (\($0))" } ?? "")) }
        return map
    }

    /// JSON text without the whitespace between tokens (strings, numbers and key order
    /// untouched): how both stores keep a confirmed Singer state, so the same state reads back
    /// as the same text from either. The input is valid JSON (checked where it is stored).
    package static func compact(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var inString = false
        var escaped = false
        for byte in text.utf8 {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): continue
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func encode(_ map: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding a [String: String] cannot fail.
        return String(decoding: (try? encoder.encode(map)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
