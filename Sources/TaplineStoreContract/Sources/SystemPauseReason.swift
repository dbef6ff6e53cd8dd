import Foundation

/// The reasons the store itself writes into `system_pause_reason`, the same text on both
/// backends (the scheduler and the API compare them).
public enum SystemPauseReason {
    /// The reason of the system pause every source gets while the account has no destination.
    public static let noDestination = "the destination was deleted; create one with POST /v4/destinations"
}
