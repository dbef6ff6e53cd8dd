import Hummingbird

/// Why a console request was not served, answered as a page (never as JSON, never a 500 with
/// details: the daemon's log has those).
struct ConsoleError: Error, Sendable {
    var status: HTTPResponse.Status
    var title: String
    var message: String
    /// A redirect instead of a page (to the sign-in form).
    var location: String?
    var retryAfter: Int?

    static func notFound(_ message: String) -> ConsoleError {
        ConsoleError(status: .notFound, title: "Not found", message: message)
    }

    static func forbidden(_ message: String) -> ConsoleError {
        ConsoleError(status: .forbidden, title: "Refused", message: message)
    }

    static func badRequest(_ message: String) -> ConsoleError {
        ConsoleError(status: .badRequest, title: "Not accepted", message: message)
    }

    static func signIn(next: String) -> ConsoleError {
        ConsoleError(
            status: .seeOther, title: "Sign in", message: "sign in first",
            location: "/ui/signin?next=" + FormFields.encode(next))
    }
}
