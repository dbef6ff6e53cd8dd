import Foundation
import TaplineStore

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

/// One configured webhook. The secret is read from `secretFile` when the daemon starts.
public struct WebhookTarget: Sendable, Equatable {
    public var name: String
    public var url: String
    /// A file holding the HMAC key (mode 0600; a systemd credential works too).
    public var secretFile: String
    public var events: [WebhookEvent]

    /// How a configured `secret_credential: NAME` is held until the paths are resolved.
    static let credentialPrefix = "credential:"

    public init(name: String, url: String, secretFile: String, events: [WebhookEvent] = WebhookEvent.allCases) {
        self.name = name
        self.url = url
        self.secretFile = secretFile
        self.events = events
    }

    /// The HMAC key: the file's content without a trailing newline. A missing, empty or
    /// group/other-readable file is a start-up error naming the file.
    public func readSecret() throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: secretFile) else {
            throw WebhookSetupError("notifications.webhooks[\(name)].secret_file: cannot read \(secretFile)")
        }
        var bytes = [UInt8](data)
        while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
        guard bytes.count >= 16 else {
            throw WebhookSetupError("notifications.webhooks[\(name)].secret_file: \(secretFile) must hold a secret of at least 16 bytes")
        }
        var info = stat()
        if stat(secretFile, &info) == 0, info.st_mode & 0o077 != 0 {
            throw WebhookSetupError(
                "notifications.webhooks[\(name)].secret_file: \(secretFile) is readable by other users; chmod 600 it")
        }
        return bytes
    }
}

public struct WebhookSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
