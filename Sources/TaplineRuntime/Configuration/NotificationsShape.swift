import Foundation
import TaplineStoreContract

/// `notifications:` in the configuration file.
struct NotificationsShape: Decodable {
    var webhooks: [WebhookShape]?
    var timeoutSeconds: Double?
    var giveUpAfterHours: Double?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case webhooks
        case timeoutSeconds = "timeout_seconds"
        case giveUpAfterHours = "give_up_after_hours"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        webhooks = try c.decodeIfPresent([WebhookShape].self, forKey: .webhooks)
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds)
        giveUpAfterHours = try c.decodeIfPresent(Double.self, forKey: .giveUpAfterHours)
    }

    func apply(to settings: inout NotificationSettings) throws(ConfigurationError) {
        if let timeoutSeconds {
            guard (0.1...300).contains(timeoutSeconds) else {
                throw ConfigurationError("notifications.timeout_seconds: must be between 0.1 and 300")
            }
            settings.timeoutSeconds = timeoutSeconds
        }
        if let giveUpAfterHours {
            guard (0.01...(24 * 30)).contains(giveUpAfterHours) else {
                throw ConfigurationError("notifications.give_up_after_hours: must be between 0.01 and 720")
            }
            settings.giveUpAfterHours = giveUpAfterHours
        }
        var names = Set<String>()
        for (i, shape) in (webhooks ?? []).enumerated() {
            let target = try shape.target(path: "notifications.webhooks[\(i)]")
            guard names.insert(target.name).inserted else {
                throw ConfigurationError("notifications.webhooks[\(i)].name: \"\(target.name)\" is used twice")
            }
            settings.webhooks.append(target)
        }
    }
}

/// One entry of `notifications.webhooks`.
struct WebhookShape: Decodable {
    var name: String?
    var url: String?
    var secretFile: String?
    var secretCredential: String?
    var events: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, url, events
        case secretFile = "secret_file"
        case secretCredential = "secret_credential"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        secretFile = try c.decodeIfPresent(String.self, forKey: .secretFile)
        secretCredential = try c.decodeIfPresent(String.self, forKey: .secretCredential)
        events = try c.decodeIfPresent([String].self, forKey: .events)
    }

    func target(path: String) throws(ConfigurationError) -> WebhookTarget {
        guard let name, !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw ConfigurationError("\(path).name: required, 1 to 64 letters, digits, '-', '_' or '.'")
        }
        guard let url, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw ConfigurationError("\(path).url: required, an http:// or https:// URL")
        }
        let secret: WebhookSecret
        switch (secretFile, secretCredential) {
        case (let file?, nil) where !file.isEmpty: secret = .file(file)
        case (nil, let credential?) where !credential.isEmpty && !credential.contains("/"): secret = .credential(credential)
        default:
            throw ConfigurationError("\(path): set exactly one of secret_file (a path) or secret_credential (a systemd credential name)")
        }
        var kinds: [WebhookEvent] = WebhookEvent.allCases
        if let events {
            kinds = []
            for event in events {
                guard let kind = WebhookEvent(rawValue: event) else {
                    throw ConfigurationError(
                        "\(path).events: unknown event \"\(event)\" (known: \(WebhookEvent.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                if !kinds.contains(kind) { kinds.append(kind) }
            }
            guard !kinds.isEmpty else { throw ConfigurationError("\(path).events: must not be empty (leave it out for all events)") }
        }
        return WebhookTarget(name: name, url: url, secret: secret, events: kinds)
    }
}
