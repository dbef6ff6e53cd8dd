import Foundation
import TaplineStoreContract

/// `notifications:` in the configuration: where webhooks go and how hard tapline tries.
public struct NotificationSettings: Sendable, Equatable {
    /// The webhooks, each with the events it receives.
    public var webhooks: [WebhookTarget] = []
    /// One attempt's limit (connect, send, answer), in seconds.
    public var timeoutSeconds: Double = 10
    /// A delivery that has not succeeded this long after its event is abandoned (kept in
    /// `webhook_deliveries` with its last error).
    public var giveUpAfterHours: Double = 72

    public init() {}
}

/// Where a webhook's HMAC key is read from.
public enum WebhookSecret: Sendable, Equatable {
    /// `secret_file: PATH` (mode 0600).
    case file(String)
    /// `secret_credential: NAME`: `$CREDENTIALS_DIRECTORY/NAME` (`LoadCredential=` in the unit),
    /// made a `.file` when the configuration's paths are resolved.
    case credential(String)
}

/// One configured webhook. The secret is read when the daemon starts.
public struct WebhookTarget: Sendable, Equatable {
    public var name: String
    public var url: String
    public var secret: WebhookSecret
    public var events: [WebhookEvent]

    public init(name: String, url: String, secret: WebhookSecret, events: [WebhookEvent] = WebhookEvent.allCases) {
        self.name = name
        self.url = url
        self.secret = secret
        self.events = events
    }

    /// The HMAC key: the file's content without a trailing newline. A missing, short or
    /// group/other-readable file is a start-up error naming the file.
    public func readSecret() throws -> [UInt8] {
        let key = "notifications.webhooks[\(name)]"
        guard case .file(let path) = secret else {
            throw WebhookSetupError("\(key).secret_credential: $CREDENTIALS_DIRECTORY is not set (no systemd credentials)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WebhookSetupError("\(key).secret_file: cannot read \(path)")
        }
        var bytes = [UInt8](data)
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        guard bytes.count >= 16 else {
            throw WebhookSetupError("\(key).secret_file: \(path) must hold a secret of at least 16 bytes")
        }
        if PrivateFile.isReadableByOthers(path: path) {
            throw WebhookSetupError("\(key).secret_file: \(path) is readable by other users; chmod 600 it")
        }
        return bytes
    }
}

public struct WebhookSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
