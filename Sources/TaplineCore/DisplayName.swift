/// Rules for `display_name` beyond its length.
public enum DisplayName {
    /// The first control character in `name` (C0, DEL, C1 and the Unicode line and paragraph
    /// separators), or `nil`. A display name is one line of text for listings; NUL in particular
    /// would be cut off by SQLite's text functions, so a stored name would not be the one given.
    public static func controlCharacter(in name: String) -> Unicode.Scalar? {
        name.unicodeScalars.first { scalar in
            scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
        }
    }
}
