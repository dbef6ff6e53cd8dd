import Foundation
import Logging
import TaplineAPI
import TaplineRuntime
import TaplineStore
import TaplineStoreContract

#if canImport(Glibc)
    import Glibc
#endif

/// The setup steps both daemons share: the state directory, the tokens, the credentials key.
extension Daemon {

    /// Opens the store with the credentials key (`CredentialsKeyFile`); a key that is missing or
    /// does not open the stored credentials is an error naming the key file.
    static func openStore(
        database: String, configuration: TaplineConfiguration, stateDirectory: String, environment: [String: String],
        logger: Logger
    ) throws -> Store {
        let key = CredentialsKeyFile.location(
            configured: configuration.credentialsKeyFile, stateDirectory: stateDirectory, environment: environment)
        let existed = FileManager.default.fileExists(atPath: key.path)
        let cipher: CredentialCipher
        do {
            cipher = try CredentialsKeyFile.load(
                path: key.path, generate: key.generate, holder: "the database \(database)",
                sealedKeyIDs: { try Store.sealedKeyIDs(path: database) })
        } catch let error as CredentialsKeyFile.Failure {
            throw SetupError(error.description)
        }
        if !existed { logger.notice("generated the credentials key", metadata: ["key.path": "\(key.path)"]) }
        do {
            let store = try Store.open(path: database, catalog: configuration.catalog, cipher: cipher)
            logger.info("credentials sealed at rest", metadata: ["key.path": "\(key.path)", "key.id": "\(cipher.keyID)"])
            return store
        } catch let error as CredentialKeyError {
            throw SetupError("credentials key file \(key.path): \(error)")
        }
    }

    static func makePrivateDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SetupError("cannot create the state directory \(path): \(error.localizedDescription)")
        }
    }

    /// Tokens from, in order: the configured token file; the systemd credential `token`; the
    /// state directory's `token` file, generated on first start.
    static func loadTokens(
        configuration: TaplineConfiguration, stateDirectory: String, environment: [String: String], logger: Logger
    ) throws -> TokenSet {
        let path: String
        var entries: [TokenFile.Entry]
        if let configured = configuration.tokenFile {
            path = configured
            entries = try TokenFile.read(path: configured)
        } else if let credentials = environment["CREDENTIALS_DIRECTORY"],
            FileManager.default.fileExists(atPath: (credentials as NSString).appendingPathComponent("token"))
        {
            path = (credentials as NSString).appendingPathComponent("token")
            entries = try TokenFile.read(path: path)
        } else {
            path = (stateDirectory as NSString).appendingPathComponent("token")
            if FileManager.default.fileExists(atPath: path) {
                entries = try TokenFile.read(path: path)
            } else {
                entries = try TokenFile.create(path: path)
                logger.notice("generated an API token", metadata: ["token.path": "\(path)"])
            }
        }
        if TokenFile.isReadableByOthers(path: path) {
            logger.warning("the token file is readable by other users; chmod 600 it", metadata: ["token.path": "\(path)"])
        }
        logger.info(
            "API tokens loaded", metadata: ["token.path": "\(path)", "token.names": "\(entries.map(\.name))"])
        return TokenSet(entries.map { ($0.name, $0.token, $0.readOnly) })
    }
}
