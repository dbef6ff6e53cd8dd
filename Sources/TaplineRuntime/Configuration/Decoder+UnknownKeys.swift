import Foundation

/// A coding key for any name, used to find keys that a type does not declare.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Throws for the first key of the current mapping that `Keys` does not declare.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_: Keys.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let allowed = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: codingPath + [key],
                    debugDescription: "unknown key (allowed: \(allowed.sorted().joined(separator: ", ")))"))
        }
    }
}
