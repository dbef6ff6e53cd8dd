import Foundation
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// The file holding the key that seals credentials at rest (`CredentialCipher`): one line, the
/// base64 of 32 random bytes, mode 0600.
///
/// Where it is, in order: `credentials_key_file` in the configuration; the systemd credential
/// `credentials-key` (`LoadCredentialEncrypted=credentials-key:…` in the unit); else
/// `<state_dir>/credentials.key`, generated at the first start as the token is. A key that is
/// missing while the database holds sealed credentials, unreadable, malformed, readable by
/// others, or not the key the credentials were sealed with stops the start with an error naming
/// the file: credentials are never silently empty.
public enum CredentialsKeyFile {
    public static let credentialName = "credentials-key"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The key file's path, and whether tapline may create it (only its own default).
    public static func location(configured: String?, stateDirectory: String, environment: [String: String]) -> (
        path: String, generate: Bool
    ) {
        if let configured { return (configured, false) }
        if let credentials = environment["CREDENTIALS_DIRECTORY"] {
            let path = (credentials as NSString).appendingPathComponent(credentialName)
            if FileManager.default.fileExists(atPath: path) { return (path, false) }
        }
        return ((stateDirectory as NSString).appendingPathComponent("credentials.key"), true)
    }

    /// Reads the key, or creates it when allowed and the store holds nothing sealed. A rotation
    /// interrupted after its commit left the new key in `<path>.next`: it is moved into place when
    /// the store is sealed with it. `sealedKeyIDs` reads the ids of the keys the store's
    /// credentials are sealed with (for a cluster, also the key it recorded); `holder` names the
    /// store in errors.
    public static func load(
        path: String, generate: Bool, holder: String, sealedKeyIDs: () throws -> Set<String>
    ) throws -> CredentialCipher {
        let next = path + ".next"
        if FileManager.default.fileExists(atPath: next) {
            let pending = try read(next)
            let sealed = try sealedKeyIDs()
            if sealed.contains(pending.keyID) {
                guard rename(next, path) == 0 else { throw Failure("cannot move \(next) to \(path): \(String(cString: strerror(errno)))") }
            } else {
                unlink(next)
            }
        }
        if FileManager.default.fileExists(atPath: path) { return try read(path) }
        guard generate else { throw Failure("credentials key file \(path): not found") }
        if let id = (try sealedKeyIDs()).sorted().first {
            throw Failure(
                "credentials key file \(path): not found, and \(holder) holds credentials sealed with a key (id \(id)); put that key back (or restore the file)"
            )
        }
        let cipher = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        try write(cipher, to: path, exclusive: true)
        return cipher
    }

    public static func read(_ path: String) throws -> CredentialCipher {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure("credentials key file \(path): cannot read it") }
        if PrivateFile.isReadableByOthers(path: path) {
            throw Failure("credentials key file \(path): readable by other users; chmod 600 it")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
            throw Failure("credentials key file \(path): not a key (one line, the base64 of 32 bytes)")
        }
        do {
            return try CredentialCipher(keyBytes: [UInt8](bytes))
        } catch {
            throw Failure("credentials key file \(path): \(error)")
        }
    }

    /// Writes the key, mode 0600, synced; `exclusive`: fail if the file exists.
    public static func write(_ cipher: CredentialCipher, to path: String, exclusive: Bool) throws {
        if let reason = PrivateFile.write(cipher.keyBytesBase64 + "\n", to: path, exclusive: exclusive) {
            throw Failure("credentials key file \(path): cannot write it: \(reason)")
        }
    }

    /// Replaces the key: writes `<path>.next`, re-seals every credential with it in one
    /// transaction (`reseal`, the store's: SQLite's or the cluster's), then renames it over
    /// `<path>`. A crash between the commit and the rename is finished by the next `load`.
    /// Returns the rows re-sealed.
    public static func rotate(
        path: String, reseal: (CredentialCipher) async throws -> Int
    ) async throws -> (rows: Int, keyID: String) {
        let next = try CredentialCipher(keyBytes: CredentialCipher.generateKeyBytes())
        let pending = path + ".next"
        unlink(pending)
        try write(next, to: pending, exclusive: true)
        let rows: Int
        do {
            rows = try await reseal(next)
        } catch {
            unlink(pending)
            throw error
        }
        guard rename(pending, path) == 0 else {
            throw Failure(
                "re-sealed with the key in \(pending), but cannot move it to \(path): \(String(cString: strerror(errno))); move it by hand")
        }
        return (rows, next.keyID)
    }
}
