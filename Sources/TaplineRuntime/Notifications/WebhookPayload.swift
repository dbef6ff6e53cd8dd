import Foundation
import TaplineCore
import TaplineStoreContract

/// A delivery's JSON body. It is built from the stored rows the same way on every attempt, so a
/// retried delivery carries the same body (and the same `delivery_id`, for receivers that drop
/// duplicates: delivery is at least once).
enum WebhookPayload {
    static func body(_ delivery: WebhookDelivery) -> Data {
        var object: [String: Any] = [
            "delivery_id": delivery.id,
            "event": delivery.event.rawValue,
            "created_at": Timestamp.formatMilliseconds(delivery.createdAt),
            "source": [
                "id": delivery.source.id, "name": delivery.source.name, "display_name": delivery.source.displayName,
            ] as [String: Any],
        ]
        if let reason = delivery.reason { object["reason"] = reason }
        if let job = delivery.job {
            var fields: [String: Any] = [
                "job_name": job.jobName, "trigger": job.trigger.rawValue, "attempt": job.attempt, "status": job.status.rawValue,
                "started_at": Timestamp.formatMilliseconds(job.startedAt),
            ]
            fields["scheduled_for"] = job.scheduledFor.map(Timestamp.formatMilliseconds) ?? NSNull()
            fields["completed_at"] = job.completedAt.map(Timestamp.formatMilliseconds) ?? NSNull()
            fields["tap_exit_status"] = job.tapExitStatus ?? NSNull()
            fields["tap_description"] = job.tapDescription ?? NSNull()
            fields["target_exit_status"] = job.targetExitStatus ?? NSNull()
            fields["target_description"] = job.targetDescription ?? NSNull()
            object["job"] = fields
        }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }
}
