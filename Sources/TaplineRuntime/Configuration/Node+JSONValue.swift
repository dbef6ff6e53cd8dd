import Foundation
import TaplineCore
import Yams

extension Node {
    /// The node as a JSON value, with the type YAML gives it: `false` is a boolean, `5432` an
    /// integer, `"5432"` (quoted) a string, `~` null. Settings written for a target in the
    /// configuration file reach its configuration file with these types.
    func jsonValue(path: String) throws(ConfigurationError) -> JSONValue {
        switch self {
        case .scalar(let scalar):
            switch Self.resolvedTag(of: scalar) {
            case .null: return .null
            case .bool:
                guard let b = Bool.construct(from: scalar) else { break }
                return .bool(b)
            case .int:
                guard let i = Int.construct(from: scalar) else { break }
                return .number(Double(i))
            case .float:
                guard let d = Double.construct(from: scalar), d.isFinite else {
                    throw ConfigurationError("\(path): \(scalar.string) is not a finite number")
                }
                return .number(d)
            default: break
            }
            return .string(scalar.string)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (i, item) in sequence.enumerated() { items.append(try item.jsonValue(path: "\(path)[\(i)]")) }
            return .array(items)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { throw ConfigurationError("\(path): keys must be strings") }
                object[name] = try value.jsonValue(path: "\(path).\(name)")
            }
            return .object(object)
        case .alias:
            throw ConfigurationError("\(path): YAML aliases are not supported here")
        }
    }

    /// The scalar's type as YAML's core schema reads it: an explicit tag (`!!str 5432`), else a
    /// quoted scalar is a string and a plain one is resolved from its text (`5432`, `false`, `~`).
    /// (A tag's name is only public through its description.)
    static func resolvedTag(of scalar: Node.Scalar) -> Tag.Name {
        let explicit = Tag.Name(rawValue: scalar.tag.description)
        guard explicit == .implicit || explicit == .nonSpecific else { return explicit }
        guard explicit == .implicit, scalar.style == .plain || scalar.style == .any else { return .str }
        return Resolver.default.resolveTag(of: Node.scalar(scalar))
    }
}
