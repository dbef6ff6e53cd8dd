/// The replication frequencies Stitch accepts for `frequency_in_minutes`, as minutes.
///
/// On the wire the value is a JSON *string* (`"60"`); a source type may narrow the set
/// (Stitch allows `"1"` only for database sources).
public enum Frequency {
    public static let allowedMinutes = [1, 30, 60, 360, 720, 1440]

    /// Parses the wire form: exactly one of the allowed decimal strings, no padding or sign.
    public static func parse(_ text: String, allowed: [Int] = allowedMinutes) -> Int? {
        guard let minutes = Int(text), String(minutes) == text, allowed.contains(minutes) else { return nil }
        return minutes
    }

    /// The JSON-schema pattern Stitch reports for the property, built from the allowed set.
    public static func pattern(allowed: [Int]) -> String {
        allowed.map { "^\($0)$" }.joined(separator: "|")
    }
}
