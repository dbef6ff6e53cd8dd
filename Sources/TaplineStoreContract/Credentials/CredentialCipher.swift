import Crypto
import Foundation

/// Seals the `credentials` columns (of `sources` and `destinations`) with AES-256-GCM, so a
/// person reading the database with `sqlite3` sees no secret.
///
/// A sealed value is still a JSON object (the columns' CHECK holds):
/// `{"tapline_sealed":1,"key":"<key id>","box":"<base64 of nonce, ciphertext and tag>"}`; the
/// key id is the first 16 hex digits of the key's SHA-256, so a wrong key is recognised before
/// any value is opened. `{}` (no credentials) stays `{}`. The store's statements call the SQL
/// functions `tapline_seal(text)` and `tapline_open(text)`, registered on each connection; a
/// plain-text object (written by hand, or by a version before sealing) opens as itself and is
/// sealed by `sealPlainCredentials` at the next start.
public struct CredentialCipher: Sendable {
    /// The key's bytes (SymmetricKey is made from them per use: it is not Sendable).
    package let keyBytes: [UInt8]
    public let keyID: String
    package var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(keyBytes: [UInt8]) throws {
        guard keyBytes.count == 32 else { throw CredentialKeyError.badKey("an AES-256 key is 32 bytes, got \(keyBytes.count)") }
        self.keyBytes = keyBytes
        keyID = Self.identify(keyBytes)
    }

    /// The key as the key file holds it.
    public var keyBytesBase64: String { Data(keyBytes).base64EncodedString() }

    /// A new random key.
    public static func generateKeyBytes() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    package static func identify(_ keyBytes: [UInt8]) -> String {
        SHA256.hash(data: keyBytes).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    package func seal(_ plain: String) throws -> String {
        guard plain != "{}", !Self.isSealed(plain) else { return plain }
        guard let combined = try AES.GCM.seal(Data(plain.utf8), using: key).combined else {
            throw CredentialKeyError.badKey("AES-GCM produced no sealed box")
        }
        return #"{"tapline_sealed":1,"key":"\#(keyID)","box":"\#(combined.base64EncodedString())"}"#
    }

    /// Runs on every read of a source (the scheduler's claims included), so a plain value costs a
    /// prefix check and a sealed one a single parse.
    package func open(_ stored: String) throws -> String {
        guard let envelope = Self.envelope(stored) else { return stored }
        guard envelope.keyID == keyID else { throw CredentialKeyError.wrongKey(found: envelope.keyID, expected: keyID) }
        guard let box = Data(base64Encoded: envelope.box) else {
            throw CredentialKeyError.badKey("a sealed credentials value is malformed")
        }
        let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: box), using: key)
        return String(decoding: plain, as: UTF8.self)
    }

    package static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(#"{"tapline_sealed":"#) }

    /// The key id and box of a sealed value; `nil` for a plain-text one.
    package static func envelope(_ stored: String) -> (keyID: String, box: String)? {
        guard isSealed(stored), let object = try? JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any],
            let keyID = object["key"] as? String, let box = object["box"] as? String
        else { return nil }
        return (keyID, box)
    }
}

public enum CredentialKeyError: Error, CustomStringConvertible, Equatable {
    case badKey(String)
    case wrongKey(found: String, expected: String)
    case missingKey(found: String)

    public var description: String {
        switch self {
        case .badKey(let why): "the credentials key is unusable: \(why)"
        case .wrongKey(let found, let expected):
            "the database's credentials are sealed with key \(found), but the key given is \(expected)"
        case .missingKey(let found): "the database's credentials are sealed with key \(found), and no key was given"
        }
    }
}
