/// Source names: the destination schema name Stitch derives from `display_name`.
public enum SourceName {
    public static let maxLength = 49

    public static let rulesMessage =
        "The name field must be under 50 characters, and can only contain lowercase letters, numbers, underscores, or dollar signs. It must begin with a letter or an underscore."

    /// Lowercases, turns spaces and hyphens into underscores and drops every other character
    /// that a schema name cannot hold (`"My Shop!!!"` → `"my_shop"`). The result may still be
    /// invalid (empty, or starting with a digit); `isValid` decides.
    public static func derive(fromDisplayName displayName: String) -> String {
        var result = ""
        for scalar in displayName.lowercased().unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9", "_": result.unicodeScalars.append(scalar)
            case " ", "-", "\t": result.append("_")
            default: continue
            }
        }
        return result
    }

    /// Under 50 characters of `[a-z0-9_$]`, starting with a letter or an underscore.
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= maxLength else { return false }
        guard ("a"..."z").contains(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "$" }
    }
}
