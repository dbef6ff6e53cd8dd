/// Why a request about a source was refused. Each case is one of Stitch's documented error
/// codes for the sources endpoints; the API layer turns them into Stitch's exact body shape.
public enum SourceError: Error, Equatable, Sendable {
    /// The body has the wrong shape: not an object, a key that is not allowed, a value of the
    /// wrong type.
    case invalidBody(String)
    /// `type` names no configured source type.
    case invalidType(String)
    /// A name (given or derived) is invalid or already taken.
    case invalidName(String)
    /// The display name (or the name derived from it) is unusable.
    case invalidDisplayName(String)
    /// Properties that fail the type's checks; `type` names the source type for the report card.
    case invalidProperties(bad: [String], type: String)
    /// `cron_expression` is not a valid Quartz expression.
    case invalidCronExpression(expression: String, reason: String)
    /// PUT or DELETE of an id that does not exist.
    case invalidID(Int64)
    /// The source exists but is deleted, so it can no longer be changed.
    case deleted(Int64)

    /// Stitch's error code string.
    public var code: String {
        switch self {
        case .invalidBody: "InvalidBody"
        case .invalidType: "InvalidType"
        case .invalidName: "InvalidName"
        case .invalidDisplayName: "InvalidDisplayName"
        case .invalidProperties: "InvalidProperties"
        case .invalidCronExpression: "InvalidCronExpression"
        case .invalidID, .deleted: "InvalidId"
        }
    }

    /// The human-readable message, worded as Stitch words it where Stitch documents one.
    public var message: String {
        switch self {
        case .invalidBody(let m), .invalidName(let m), .invalidDisplayName(let m): m
        case .invalidType(let t): "invalid source type (\(t))"
        case .invalidProperties: "properties do not match schema"
        case .invalidCronExpression(let e, let r): "cron_expression \"\(e)\" is invalid: \(r)"
        case .invalidID(let id): "source not found (\(id))"
        case .deleted(let id): "source is deleted (\(id))"
        }
    }

    public static let postBodyMessage =
        "POST body may only include a non-empty type, a non-empty display_name and map of string properties"
    /// Stitch's text, typo included: clients may match on it.
    public static let putBodyMessage = "PUT body many only include the keys: display_name, properties, and paused_at"
}
