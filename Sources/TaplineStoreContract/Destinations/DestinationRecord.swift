import Foundation
import TaplineCore

/// The account's destination, as stored. Credentials are kept apart and never returned.
public struct DestinationRecord: Sendable, Equatable {
    public var id: Int64
    /// The configured destination type's name.
    public var type: String
    public var properties: [String: String]
    public var credentials: [String: String]
    public var createdAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?

    package init(
        id: Int64, type: String, properties: [String: String], credentials: [String: String], createdAt: Date, updatedAt: Date,
        deletedAt: Date?
    ) {
        self.id = id
        self.type = type
        self.properties = properties
        self.credentials = credentials
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.deletedAt = deletedAt
    }
}
