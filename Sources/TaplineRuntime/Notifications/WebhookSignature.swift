import Crypto
import Foundation

/// How a receiver knows a delivery came from this tapline and was not replayed: the header
/// `X-Tapline-Signature: sha256=<hex>` is HMAC-SHA256, keyed with the webhook's secret, of
/// `<X-Tapline-Timestamp>.<body>` (the Unix time of the attempt, a dot, the exact body bytes).
enum WebhookSignature {
    static func header(secret: [UInt8], timestamp: Int, body: Data) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
