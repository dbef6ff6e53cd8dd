import Foundation
import TaplineCore

/// The outcome of `POST /v4/sources/{id}/sync`.
public enum ManualStartResult: Sendable, Equatable {
    case started(JobRecord, source: SourceRecord)
    case unknownSource
    case deleted
    case alreadyRunning
    case notConfigured(ConfigurationStep)
    case typeMissing(String)
    /// The account has no destination (it was deleted): nothing to load into.
    case noDestination
}
