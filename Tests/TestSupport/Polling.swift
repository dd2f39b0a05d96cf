import Glibc

/// Checks `condition` every 2 ms until it holds or `deadline` has passed
/// (and once more at the end); returns whether it held.
///
/// Tests wait for what happens on other threads and in other processes with
/// this, never with a sleep: a condition met early returns at once. Wrap it in
/// `#expect` to go on after a timeout, in `try #require` to stop the test.
@discardableResult
public func poll(until condition: () throws -> Bool, deadline: Duration = .seconds(5)) rethrows -> Bool {
    let end = ContinuousClock.now.advanced(by: deadline)
    while ContinuousClock.now < end {
        if try condition() { return true }
        usleep(2_000)
    }
    return try condition()
}
