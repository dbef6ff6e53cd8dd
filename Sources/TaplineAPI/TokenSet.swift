/// The API tokens tapline accepts, each with a name that the audit trail records and whether it
/// may only read.
public struct TokenSet: Sendable {
    /// Who a presented token is.
    public struct Identity: Sendable, Equatable {
        public var name: String
        /// Its API calls and console sessions read; every change is refused with a 403.
        public var readOnly: Bool
    }

    private let entries: [(identity: Identity, token: [UInt8])]

    public init(_ entries: [(name: String, token: String)]) {
        self.init(entries.map { ($0.name, $0.token, false) })
    }

    public init(_ entries: [(name: String, token: String, readOnly: Bool)]) {
        self.entries = entries.map { (Identity(name: $0.name, readOnly: $0.readOnly), Array($0.token.utf8)) }
    }

    /// The name of the token equal to `presented` (see `identity(of:)`).
    public func name(of presented: String) -> String? { identity(of: presented)?.name }

    /// The identity of the token equal to `presented`, comparing in constant time: every
    /// configured token is compared over its full length, so timing reveals neither which token
    /// nor how much of one matched.
    public func identity(of presented: String) -> Identity? {
        let candidate = Array(presented.utf8)
        var found: Identity?
        for entry in entries where Self.constantTimeEqual(entry.token, candidate) {
            found = found ?? entry.identity
        }
        return found
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
