/// Ids in paths are canonical decimal integers: `1`, never `+1`, `01` or ` 1`.
///
/// Swift's `Int64("+1")` and `Int64("01")` both give 1, so without this `/v4/sources/01` would
/// answer source 1: one resource with many names, which caches, audits and clients comparing
/// ids must never see.
public enum CanonicalID {
    public static func parse(_ text: some StringProtocol) -> Int64? {
        let utf8 = text.utf8
        guard let first = utf8.first, utf8.count <= 19, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard first != 0x30 || utf8.count == 1 else { return nil }
        return Int64(text)
    }
}
