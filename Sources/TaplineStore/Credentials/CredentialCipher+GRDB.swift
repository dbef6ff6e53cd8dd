import Foundation
import GRDB
import TaplineStoreContract

extension CredentialCipher {
    /// Registers `tapline_seal` and `tapline_open` on a connection. Without a cipher (tests, or a
    /// store opened only to read schedules) both pass values through, and opening a sealed value
    /// is an error: never silently empty credentials.
    static func register(_ cipher: CredentialCipher?, on db: Database) {
        db.add(
            function: DatabaseFunction("tapline_seal", argumentCount: 1, pure: false) { values in
                guard let text = String.fromDatabaseValue(values[0]) else { return nil }
                return try cipher?.seal(text) ?? text
            })
        db.add(
            function: DatabaseFunction("tapline_open", argumentCount: 1, pure: true) { values in
                guard let text = String.fromDatabaseValue(values[0]) else { return nil }
                if let cipher { return try cipher.open(text) }
                if let envelope = envelope(text) { throw CredentialKeyError.missingKey(found: envelope.keyID) }
                return text
            })
    }
}
