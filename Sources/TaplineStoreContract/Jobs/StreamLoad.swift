import Foundation
import TaplineCore

/// The latest load of one stream (Stitch's load object).
public struct StreamLoad: Sendable, Equatable {
    public var sourceID: Int64
    public var sourceName: String
    public var streamName: String
    public var lastBatchLoadedAt: Date?
    /// Why the stream's last load failed; `nil` when it succeeded.
    public var failure: LoadFailure?
    public var records: Int
    public var jobName: String

    package init(
        sourceID: Int64, sourceName: String, streamName: String, lastBatchLoadedAt: Date?, failure: LoadFailure?, records: Int,
        jobName: String
    ) {
        self.sourceID = sourceID
        self.sourceName = sourceName
        self.streamName = streamName
        self.lastBatchLoadedAt = lastBatchLoadedAt
        self.failure = failure
        self.records = records
        self.jobName = jobName
    }
}

/// A failed load as stored in `stream_loads.error_state`: `{"message": …, "target_exit_status": N}`.
public struct LoadFailure: Sendable, Equatable {
    /// The target's own description of the failure (its last error line).
    public var message: String
    public var targetExitStatus: Int?

    public init(message: String, targetExitStatus: Int?) {
        self.message = message
        self.targetExitStatus = targetExitStatus
    }

    package init(json text: String) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
            let message = object["message"] as? String
        else { throw StoreError.corruptValue("load failure") }
        self.message = message
        self.targetExitStatus = (object["target_exit_status"] as? NSNumber)?.intValue
    }
}
