import ArgumentParser

/// Refuses a command-line option value that is out of range, before the command does anything:
/// ArgumentParser prints `message` with the usage and exits with status 64.
func requireOption(_ valid: Bool, _ message: @autoclosure () -> String) throws {
    if !valid { throw ValidationError(message()) }
}
