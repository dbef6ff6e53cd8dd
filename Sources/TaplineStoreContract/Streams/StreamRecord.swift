import Foundation
import TaplineCore

/// A stream a tap's discovery found.
public struct DiscoveredStream: Sendable, Equatable {
    public var tapStreamID: String
    public var streamName: String
    /// The stream's JSON schema, as JSON text.
    public var schema: String
    /// Singer metadata: a JSON array of `{"breadcrumb": […], "metadata": {…}}`, as text.
    public var metadata: String
    /// The whole catalog entry as the tap wrote it (a JSON object, as text), every key kept;
    /// `nil` for streams discovered before entries were kept.
    public var catalogEntry: String?

    public init(tapStreamID: String, streamName: String, schema: String, metadata: String, catalogEntry: String? = nil) {
        self.tapStreamID = tapStreamID
        self.streamName = streamName
        self.schema = schema
        self.metadata = metadata
        self.catalogEntry = catalogEntry
    }
}

/// A discovered stream with its selection.
public struct StreamRecord: Sendable, Equatable {
    public var id: Int64
    public var sourceID: Int64
    public var stream: DiscoveredStream
    /// `nil` until the stream was ever selected or deselected.
    public var selected: Bool?

    package init(id: Int64, sourceID: Int64, stream: DiscoveredStream, selected: Bool?) {
        self.id = id
        self.sourceID = sourceID
        self.stream = stream
        self.selected = selected
    }
}

/// A connection check: one discovery run.
public struct ConnectionCheck: Sendable, Equatable {
    public var name: String
    public var sourceID: Int64
    public var status: String
    public var startedAt: Date
    public var completedAt: Date?
    public var discoveryExitStatus: Int?
    public var discoveryErrorMessage: String?

    package init(
        name: String, sourceID: Int64, status: String, startedAt: Date, completedAt: Date?, discoveryExitStatus: Int?,
        discoveryErrorMessage: String?
    ) {
        self.name = name
        self.sourceID = sourceID
        self.status = status
        self.startedAt = startedAt
        self.completedAt = completedAt
        self.discoveryExitStatus = discoveryExitStatus
        self.discoveryErrorMessage = discoveryErrorMessage
    }
}

/// Why a stream-metadata update was refused, in Stitch's words.
public enum StreamMetadataError: Error, Equatable, Sendable {
    case invalidTapStreamIDs([String])
    case discoverableKey(String)
    case unsupportedField
}
