import Foundation

extension ConsoleSession {
    func sync(_ c: ParsedCommand) throws {
        throw ConsoleError.failed("sync is not wired yet")
    }
}
