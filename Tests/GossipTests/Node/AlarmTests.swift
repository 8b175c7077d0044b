import Testing

@testable import Gossip

/// The timer loop's sleep (`Alarm`): a ring cuts it short, a ring while
/// nobody sleeps is kept for the next sleep, cancellation ends it.
@Suite struct AlarmTests {
    static let hour = ContinuousClock.now + .seconds(3600)

    @Test func aRingWakesASleeper() async {
        let alarm = Alarm()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await alarm.sleep(until: Self.hour) }
            // Whether the sleeper sleeps already or not yet, one ring wakes it
            // (a ring before the sleep is kept for it).
            alarm.ring()
            await group.next()
        }
    }

    @Test func aRingWhileNobodySleepsIsKeptForTheNextSleep() async {
        let alarm = Alarm()
        alarm.ring()
        await alarm.sleep(until: Self.hour)  // returns at once
        // Kept once, not forever: the next sleep waits for its deadline.
        let start = ContinuousClock.now
        await alarm.sleep(until: start + .milliseconds(50))
        #expect(ContinuousClock.now - start >= .milliseconds(50))
    }

    @Test func cancellationEndsASleep() async {
        let alarm = Alarm()
        let sleeper = Task { await alarm.sleep(until: Self.hour) }
        sleeper.cancel()
        await sleeper.value
    }
}
