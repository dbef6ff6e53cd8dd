import Foundation
import TaplineCore

/// What `POST /v4/sources/{id}/state/reset` did.
public enum StateResetResult: Sendable, Equatable {
    /// The bookmarks are gone; `previous` is the state they held (nil: there was none).
    case reset(previous: String?)
    /// A job of the source is running: its STATE would write the bookmarks back.
    case jobRunning(jobName: String)
}
