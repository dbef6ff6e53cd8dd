import Foundation

/// The type a tap's setting has in its configuration file.
///
/// On the wire every property value is a string, as in Stitch; a tap that checks its settings'
/// types (Meltano SDK taps validate their configuration against a JSON schema) must still get
/// `5432`, not `"5432"`. A property declares its type, tapline checks that the string can be read
/// as one, and the tap's configuration file gets the typed value.
public enum PropertyValueType: String, Sendable, Hashable, CaseIterable {
    case string, integer, number, boolean, array, object
    /// Any JSON value (the older `json: true`).
    case json

    /// The typed value of a wire string, or `nil` when the string is not one of this type.
    ///
    /// `integer` takes decimal digits with an optional sign (`"5432"`, `"-1"`); `number` any
    /// JSON number; `boolean` exactly `true` or `false`; `array`, `object` and `json` JSON text
    /// of that kind.
    public func value(of text: String) -> JSONValue? {
        switch self {
        case .string:
            return .string(text)
        case .integer:
            let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let n = Int64(text)
            else { return nil }
            return .number(Double(n))
        case .boolean:
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return nil
            }
        case .number, .array, .object, .json:
            guard let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { return nil }
            switch (self, parsed) {
            case (.number, .number), (.array, .array), (.object, .object), (.json, _): return parsed
            default: return nil
            }
        }
    }
}

extension JSONValue {
    /// The value as Foundation objects for `JSONSerialization`: whole numbers become integers,
    /// so `5432` is written as `5432`, not `5432.0`.
    public var foundationObject: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return b
        case .number(let n):
            if let i = exactInteger { return Int(i) }
            return n
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationObject)
        case .object(let o): return o.mapValues(\.foundationObject)
        }
    }

    /// The value with `transform` applied to every string in it, at any depth.
    public func mapStrings(_ transform: (String) -> String) -> JSONValue {
        switch self {
        case .string(let s): return .string(transform(s))
        case .array(let a): return .array(a.map { $0.mapStrings(transform) })
        case .object(let o): return .object(o.mapValues { $0.mapStrings(transform) })
        default: return self
        }
    }
}
