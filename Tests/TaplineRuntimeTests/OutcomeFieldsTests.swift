import Foundation
import TaplineStore
import TaplineStoreContract
import Testing

@testable import TaplineRuntime

/// Stitch's extraction exit fields for each way a job ends. Pollers (mage-ai) read a null
/// `discovery_exit_status` as "still running", so every job that ended after reaching its tap
/// shows 0 there.
@Suite("Job outcomes: Stitch's exit fields")
struct OutcomeFieldsTests {
    func outcome(tap: ProcessExit, target: ProcessExit, stop: Bool = false, tapCause: String? = nil, targetCause: String? = nil)
        -> JobOutcome
    {
        var relay = RelayReport()
        relay.tapFailureCause = tapCause
        relay.targetFailureCause = targetCause
        return JobOutcome.from(PipelineExit(tap: tap, target: target, relay: relay), stopRequested: stop, at: Date())
    }

    @Test("succeeded: 0, 0, 0 and no descriptions")
    func succeeded() {
        let o = outcome(tap: .exited(0), target: .exited(0))
        #expect(o.status == .succeeded && o.discoveryExitStatus == 0 && o.tapExitStatus == 0 && o.targetExitStatus == 0)
        #expect(o.discoveryDescription == nil && o.tapDescription == nil && o.targetDescription == nil)
    }

    @Test("failed in the tap: discovery 0, the tap's status and cause, the target's own status")
    func failedInTap() {
        let o = outcome(tap: .exited(1), target: .exited(0), tapCause: "KeyError: 'x'")
        #expect(o.status == .failed && o.discoveryExitStatus == 0 && o.tapExitStatus == 1 && o.targetExitStatus == 0)
        #expect(o.tapDescription == "KeyError: 'x'" && o.targetDescription == nil)
    }

    @Test("failed in the target: discovery 0, tap 0, the target's status and cause")
    func failedInTarget() {
        let o = outcome(tap: .exited(0), target: .signaled(9))
        #expect(o.status == .failed && o.discoveryExitStatus == 0 && o.tapExitStatus == 0 && o.targetExitStatus == 137)
        #expect(o.targetDescription == "target killed by signal 9")
    }

    @Test("stopped: every status null, every description Terminated, as Stitch shows it")
    func stopped() {
        let o = outcome(tap: .signaled(15), target: .signaled(15), stop: true)
        #expect(o.status == .stopped && o.discoveryExitStatus == nil && o.tapExitStatus == nil && o.targetExitStatus == nil)
        #expect(o.discoveryDescription == "Terminated" && o.tapDescription == "Terminated" && o.targetDescription == "Terminated")
    }

    @Test("a tap that cannot be executed: discovery 0, tap 127; a job that cannot be prepared fails in discovery")
    func launchAndPreparation() {
        let launch = JobOutcome.launchFailed(LaunchError(role: "tap", command: "/x/tap", reason: "No such file or directory"), at: Date())
        #expect(launch.discoveryExitStatus == 0 && launch.tapExitStatus == 127)
        #expect(launch.tapDescription == "cannot execute the tap /x/tap: No such file or directory")
        let prepared = JobOutcome.preparationFailed("cannot prepare the job: /j/tap-config.json: No space left on device", at: Date())
        #expect(prepared.discoveryExitStatus == 1 && prepared.discoveryDescription?.hasSuffix("No space left on device") == true)
        #expect(prepared.tapExitStatus == nil && prepared.targetExitStatus == nil)
    }
}
