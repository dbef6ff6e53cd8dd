import ServiceLifecycle
import TaplineRuntime

/// Runs the webhook dispatcher inside the `ServiceGroup`. It is the last service to stop, so the
/// ends of jobs that finish during the shutdown grace are still sent; what remains pending is
/// sent after the next start (the outbox is durable).
struct NotificationService: Service {
    let dispatcher: WebhookDispatcher
    let enabled: Bool

    func run() async throws {
        guard enabled else {
            try? await gracefulShutdown()
            return
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await dispatcher.run() }
            try? await gracefulShutdown()
            // What the last jobs queued is due now: a moment to send it, then stop.
            await dispatcher.waitUntilNothingDue(upTo: .seconds(2))
            group.cancelAll()
        }
    }
}
