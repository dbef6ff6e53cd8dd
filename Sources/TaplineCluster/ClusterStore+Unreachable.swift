import PostgresNIO
import _ConnectionPoolModule

/// Which errors of the cluster store mean "the database cannot be reached now" (the SQLite
/// store's counterpart is `Store.isBusy`): callers retry them, and the API answers them with a
/// Stitch-shaped 503 and `Retry-After` instead of a 500.
extension ClusterStore {
    /// Unreachable, closed, cancelled or out of time, or refused by the server for a reason that
    /// passes (a deadlock, a serialization failure, a shutdown), also when it struck `BEGIN`,
    /// `COMMIT` or the rollback of a transaction: what was being written may or may not have
    /// been committed (a `COMMIT` whose answer was lost), and may be tried again.
    ///
    /// The pool's own errors come unwrapped: with the server down and staying down, waiting
    /// callers get `connectionCreationCircuitBreakerTripped` once the pool gives up connecting.
    public static func isUnreachable(_ error: any Error) -> Bool {
        switch error {
        case is ClusterDeadlineExceeded:
            return true
        case let error as ConnectionPoolError:
            return error == .connectionCreationCircuitBreakerTripped || error == .poolShutdown || error == .requestCancelled
        case let error as PostgresTransactionError:
            return [error.beginError, error.closureError, error.commitError, error.rollbackError].contains {
                $0.map(isUnreachable) ?? false
            }
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown, .queryCancelled:
                return true
            case .server:
                // 40001 serialization failure, 40P01 deadlock, 57P01–03 the server shutting
                // down or starting, 08xxx the connection lost, 55000 the database not accepting
                // connections (`ALLOW_CONNECTIONS false`).
                let state = error.serverInfo?[.sqlState] ?? ""
                return ["40001", "40P01", "57P01", "57P02", "57P03", "08000", "08003", "08006", "55000"].contains(state)
            default:
                return error.underlying.map(isUnreachable) ?? false
            }
        default:
            return false
        }
    }

    /// The API's 503 reason for an error of this store (`APIDependencies.unavailable`): the
    /// node holds no lease, or the database cannot be reached now.
    public static func unavailableReason(_ error: any Error) -> String? {
        if error is ClusterStartError {
            return
                "this node holds no lease in the cluster at the moment (it may be cut off from the database); nothing was started; retry, or use another node"
        }
        if isUnreachable(error) {
            return
                "the cluster's database (PostgreSQL) is unreachable from this node right now; retry shortly (a change that was being committed may or may not have been made)"
        }
        return nil
    }
}
