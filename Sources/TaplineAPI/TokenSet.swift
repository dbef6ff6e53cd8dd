/// The API tokens tapline accepts, each with a name that the audit trail records.
public struct TokenSet: Sendable {
    private let entries: [(name: String, token: [UInt8])]

    public init(_ entries: [(name: String, token: String)]) {
        self.entries = entries.map { ($0.name, Array($0.token.utf8)) }
    }

    /// The name of the token equal to `presented`, comparing in constant time: every configured
    /// token is compared over its full length, so timing reveals neither which token nor how much
    /// of one matched.
    public func name(of presented: String) -> String? {
        let candidate = Array(presented.utf8)
        var found: String?
        for entry in entries where Self.constantTimeEqual(entry.token, candidate) {
            found = found ?? entry.name
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
