import Foundation
import Hummingbird
import TaplineAPI
import TaplineCore
import TaplineStoreContract

/// The account around the sources (`/ui/settings`), read-only: the destination, the webhooks
/// and their recent deliveries, and on a cluster its members.
extension Console {
    struct PropertyModel {
        var name: String
        var value: String
    }

    struct DestinationModel {
        var id: Int64
        var type: String
        var properties: [PropertyModel]
        var credentials: String
        var created: ConsoleTime.Stamp?
        var deleted: ConsoleTime.Stamp?
    }

    struct WebhookModel {
        var name: String
        var host: String
        var events: String
    }

    struct DeliveryModel {
        var webhook: String
        var event: String
        var sourceID: Int64
        var created: ConsoleTime.Stamp?
        var attempts: Int
        var resultKey: String
        var result: String
    }

    struct MemberModel {
        var name: String
        var address: String
        var epoch: Int64
        var lease: ConsoleTime.Stamp?
        var state: String
        var isThisNode: Bool
    }

    struct SettingsModel {
        var live: DestinationModel?
        var past: [DestinationModel]
        var hasPast: Bool
        var webhooks: [WebhookModel]
        var hasWebhooks: Bool
        var deliveries: [DeliveryModel]
        var hasDeliveries: Bool
        var cluster: Bool
        var members: [MemberModel]
        var membersError: String?
        var liveStreams: Int
        var liveCapacity: Int
        var sessions: Int
    }

    @Sendable func settingsPage(request: Request, context: TaplineRequestContext) async throws -> Response {
        let session = try viewer(request)
        let now = api.now()
        let destinations = try await store.destinations().map { record in
            DestinationModel(
                id: record.id, type: record.type,
                properties: record.properties.sorted { $0.key < $1.key }.map { PropertyModel(name: $0.key, value: $0.value) },
                credentials: record.credentials.isEmpty
                    ? "none" : record.credentials.keys.sorted().joined(separator: ", ") + " (set, not shown)",
                created: ConsoleTime.stamp(record.createdAt, now: now), deleted: ConsoleTime.stamp(record.deletedAt, now: now))
        }
        let deliveries = try await store.recentDeliveries(limit: 50).map { delivery -> DeliveryModel in
            let (key, text): (String, String)
            if let at = delivery.deliveredAt {
                (key, text) = ("succeeded", "Delivered \(ConsoleTime.utc(at))" + (delivery.lastStatus.map { " (HTTP \($0))" } ?? ""))
            } else if delivery.abandonedAt != nil {
                (key, text) = ("failed", "Abandoned: " + (delivery.lastError ?? delivery.lastStatus.map { "HTTP \($0)" } ?? "no answer"))
            } else {
                (key, text) = (
                    "running",
                    delivery.attempts == 0
                        ? "Pending" : "Retrying: " + (delivery.lastError ?? delivery.lastStatus.map { "HTTP \($0)" } ?? "")
                )
            }
            return DeliveryModel(
                webhook: delivery.webhook, event: delivery.event, sourceID: delivery.sourceID,
                created: ConsoleTime.stamp(delivery.createdAt, now: now), attempts: delivery.attempts, resultKey: key, result: text)
        }
        var members: [MemberModel] = []
        var membersError: String?
        if let read = dependencies.members {
            do {
                members = try await read().map {
                    MemberModel(
                        name: $0.name, address: $0.address ?? "–", epoch: $0.epoch, lease: ConsoleTime.stamp($0.leaseExpiresAt, now: now),
                        state: $0.state, isThisNode: $0.name == api.node?.nodeName)
                }
            } catch {
                membersError = describe(error)
            }
        }
        let past = destinations.filter { $0.deleted != nil }
        let model = SettingsModel(
            live: destinations.first { $0.deleted == nil }, past: past, hasPast: !past.isEmpty,
            webhooks: dependencies.webhooks.map { WebhookModel(name: $0.name, host: $0.host, events: $0.events.joined(separator: ", ")) },
            hasWebhooks: !dependencies.webhooks.isEmpty, deliveries: deliveries, hasDeliveries: !deliveries.isEmpty,
            cluster: dependencies.members != nil, members: members, membersError: membersError, liveStreams: feed.listening,
            liveCapacity: feed.capacity, sessions: sessions.count)
        return .page(
            renderer.page("settings", model, layout: await layout("Destination and cluster", session: session, section: "settings")))
    }
}
