/// Failures of the store that are not the caller's fault.
public enum StoreError: Error, CustomStringConvertible {
    /// A value in the database does not have the shape tapline writes (edited by hand?).
    case corruptValue(String)

    public var description: String {
        switch self {
        case .corruptValue(let what): "the database holds a value that is not a valid \(what)"
        }
    }
}
